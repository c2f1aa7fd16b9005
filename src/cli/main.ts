console.log("hello from bundle", process.version)
