/**
 * `import text from './file?raw'`: the file's text. scripts/build.js (esbuild) and Vite (vitest)
 * both read the suffix; Node alone does not, so a module importing one runs bundled or under vitest.
 */
declare module '*?raw' {
  const text: string;
  export default text;
}
