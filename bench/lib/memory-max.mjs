// The declared maximum of a module's own memory, read and rewritten in the
// module bytes: the smallest-capacity search of allocators that grow memory
// lowers it until the workload no longer fits. Only the memory section is
// parsed (section headers are skipped by size), so a module that imports its
// memory, or has none, is refused rather than guessed at.

const MEMORY_SECTION = 5;

/** Reads an unsigned LEB128 at `pos`: `{ value, next }`. */
export function readU32(bytes, pos) {
  let value = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    const b = bytes[pos + i];
    if (b === undefined) throw new Error(`LEB128 runs past the end at ${pos}`);
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) {
      if (value > 0xffff_ffff) throw new Error(`LEB128 at ${pos} exceeds 32 bits`);
      return { value, next: pos + i + 1 };
    }
  }
  throw new Error(`LEB128 at ${pos} is longer than 5 bytes`);
}

/** The unsigned LEB128 bytes of `value` (shortest form). */
export function writeU32(value) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new Error(`not a u32: ${value}`);
  const out = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) b |= 0x80;
    out.push(b);
  } while (value);
  return out;
}

/** Where the one memory section is: `{ start, end, body }` (`start`: its id byte). */
function memorySection(bytes) {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('not a wasm module');
  }
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const { value: size, next: body } = readU32(bytes, pos + 1);
    if (id === MEMORY_SECTION) return { start: pos, end: body + size, body };
    pos = body + size;
  }
  throw new Error('the module defines no memory of its own');
}

/** The limits of the module's one memory: `{ initial, maximum }` in pages
 * (`maximum` null when none is declared). */
export function memoryLimits(bytes) {
  const { body } = memorySection(bytes);
  const { value: count, next } = readU32(bytes, body);
  if (count !== 1) throw new Error(`expected one memory, found ${count}`);
  const flags = bytes[next];
  if (flags & ~1) throw new Error(`memory flags ${flags} (shared or 64-bit) not handled`);
  const initial = readU32(bytes, next + 1);
  const maximum = flags & 1 ? readU32(bytes, initial.next).value : null;
  return { initial: initial.value, maximum };
}

/** A copy of module `bytes` whose memory declares the maximum `pages`
 * (at least its initial size); every other byte is kept. */
export function withMaxPages(bytes, pages) {
  const { start, end, body } = memorySection(bytes);
  const { initial } = memoryLimits(bytes);
  if (pages < initial) throw new Error(`maximum ${pages} is below the initial ${initial} pages`);
  const newBody = [1, 1, ...writeU32(initial), ...writeU32(pages)];
  const section = [MEMORY_SECTION, ...writeU32(newBody.length), ...newBody];
  const out = new Uint8Array(bytes.length - (end - start) + section.length);
  out.set(bytes.subarray(0, start), 0);
  out.set(section, start);
  out.set(bytes.subarray(end), start + section.length);
  return out;
}
