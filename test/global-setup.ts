// Placeholder: the local Azure test server work fills this in (TLS certificate, CLI build).
export default async function setup(): Promise<void> {}
