/**
 * HashiCorp's HCL parser, as the WebAssembly build in @cdktf/hcl2json: `parse` reads a Terraform
 * file into Terraform's JSON syntax. It is loaded through require so that its type declarations,
 * which pull the DOM library into the whole program, stay out of the type check.
 */
import { createRequire } from 'node:module';

const hcl2json = createRequire(import.meta.url)('@cdktf/hcl2json') as { parse(filename: string, text: string): Promise<unknown> };

/** The file as Terraform's JSON syntax: blocks as objects of arrays, strings as templates (a literal `${` is `$${`). */
export function parseHcl(filename: string, text: string): Promise<unknown> {
  return hcl2json.parse(filename, text);
}
