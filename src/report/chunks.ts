/**
 * The chunks a streamed report is written in. A format writes its text as pieces of any size in
 * order (a heading, one subscription's row); they are joined into chunks of about
 * CHUNK_CHARACTERS, so that a stream gets writes of a useful size and no chunk is ever large.
 * Small matters: V8 allocates a string over about 128 KiB straight in the old generation, where
 * thousands of written-out chunks would pile up until a full collection instead of being freed
 * by the next scavenge.
 */

/** About how many characters one chunk holds (at most 32 KiB of string even for two-byte text). */
export const CHUNK_CHARACTERS = 16_384;

/** The pieces joined into chunks of at least `size` characters (the last one less); a piece is never split. */
export function* chunked(pieces: Iterable<string>, size = CHUNK_CHARACTERS): Generator<string> {
  let pending: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    pending.push(piece);
    length += piece.length;
    if (length >= size) {
      yield pending.join('');
      pending = [];
      length = 0;
    }
  }
  if (pending.length > 0) yield pending.join('');
}
