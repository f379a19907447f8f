// nogrow host module: views of a WebAssembly guest's linear memory that are
// always valid, the guest's allocator state, growth notifications, string
// helpers, and out-of-memory traps turned into clear errors.
//
//   import { attach } from './nogrow.mjs';
//   const nv = attach(instance);          // or attach(instance.exports)
//   nv.u8[ptr] = 1;                        // never a detached view
//   nv.readString(ptr, len);
//   const f = nv.wrap(instance.exports.work); f(42);   // OOM trap -> OutOfArenaMemory
//
// Modes (`nv.mode`), chosen by `attach`:
// - 'fixed': ordinary memory. Each view getter checks `view.length === 0`
//   (a detached view has length 0; ~0.3 ns on Node 20) and renews every view
//   from `memory.buffer` when it sees one.
// - 'resizable': engines with `WebAssembly.Memory.prototype.toResizableBuffer`
//   and a memory that declares a maximum. Views are length-tracking views of
//   the resizable buffer: they follow growth, so getters do no checks. Not
//   chosen for wasm-bindgen guests: their glue hands memory views to
//   `TextDecoder`/`TextEncoder.encodeInto`, which reject resizable buffers.
// - 'shared': memory backed by a SharedArrayBuffer never detaches, but views
//   keep their old length. Getters compare nogrow's generation counter
//   (read with `Atomics.load` from the state block) with the one they saw.
//
// Do not keep a view across a call into the guest: read `nv.u8` again.

/** Byte offsets of the fields of nogrow's state block (src/state.rs `offsets`). */
export const STATE_OFFSETS = Object.freeze({
  generation: 0,
  abiVersion: 4,
  policy: 8,
  pages: 12,
  arenaBytes: 16,
  inUse: 20,
  peakInUse: 24,
  allocs: 28,
  frees: 32,
  reallocs: 36,
  failures: 40,
  growths: 44,
  lastFailSize: 48,
  lastFailAlign: 52,
  lastFailInUse: 56,
  lastFailArena: 60,
  reserveStatus: 64,
  limitPages: 68,
});

/** Size in bytes of nogrow's state block. */
export const STATE_SIZE = 76;

/** The state layout version this module reads. */
export const ABI_VERSION = 1;

/** Bytes in a WebAssembly page. */
export const PAGE_SIZE = 65536;

const POLICY_NAMES = [null, 'Fail', 'Reserve', 'Signal'];

const RESERVE_ERRORS = new Map([
  [-1, "the allocator's policy is not Reserve"],
  [-2, 'memory was already reserved once'],
  [-3, '0 pages requested and no compile-time amount'],
  [-4, 'the reserve would take memory beyond 4 GiB'],
  [-5, 'the engine refused to grow (module maximum)'],
]);

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

/** An error about the nogrow ABI (e.g. a failed reserve); `code` is the guest's code. */
export class NogrowError extends Error {
  constructor(message, code = 0, options) {
    super(message, options);
    this.name = 'NogrowError';
    this.code = code;
  }
}

/** An out-of-memory trap, explained from the guest's last-failure record. */
export class OutOfArenaMemory extends Error {
  constructor(message, failure, options) {
    super(message, options);
    this.name = 'OutOfArenaMemory';
    this.failure = failure;
  }
}

/**
 * The one-line explanation of a failed allocation.
 * @param {{size:number, align:number, inUse:number, arenaBytes:number, policy:string|null, limitPages?:number}} f
 */
export function describeFailure(f) {
  const head = `out of arena memory: requested ${f.size} bytes (align ${f.align}); arena ${f.arenaBytes}, in use ${f.inUse}`;
  switch (f.policy) {
    case 'Fail':
      return `${head}; policy Fail — raise the arena or use Reserve`;
    case 'Reserve':
      return `${head}; policy Reserve — raise the reserve (Reserve::pages) or the arena`;
    case 'Signal':
      return `${head}; policy Signal — growth refused (limit ${f.limitPages || 'none'} pages, or the engine's maximum); raise limit_pages or the module's maximum`;
    default:
      return `${head}; policy unknown`;
  }
}

function resolve(source, options) {
  if (source == null) throw new TypeError('nogrow.attach: expected a WebAssembly.Instance or its exports');
  let exports = source;
  if (typeof WebAssembly !== 'undefined' && source instanceof WebAssembly.Instance) exports = source.exports;
  else if (source.instance && source.instance.exports) exports = source.instance.exports;
  const memory = options.memory ?? exports.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new TypeError('nogrow.attach: the guest exports no `memory` (pass options.memory)');
  }
  return { exports, memory };
}

function isBindgen(exports) {
  for (const name of Object.keys(exports)) if (name.startsWith('__wbindgen')) return true;
  return false;
}

function chooseMode(exports, memory, options) {
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) {
    return ['shared', 'memory is shared (SharedArrayBuffer)'];
  }
  if (memory.buffer.resizable === true) return ['resizable', 'memory.buffer is already resizable'];
  const want = options.resizable ?? 'auto';
  if (want === false) return ['fixed', 'resizable views disabled (options.resizable = false)'];
  if (typeof memory.toResizableBuffer !== 'function') {
    if (want === true) throw new NogrowError('nogrow.attach: this engine has no WebAssembly.Memory.prototype.toResizableBuffer');
    return ['fixed', 'engine has no toResizableBuffer'];
  }
  if (want !== true && isBindgen(exports)) {
    return ['fixed', 'wasm-bindgen glue detected (its TextDecoder/encodeInto calls reject resizable buffers)'];
  }
  try {
    memory.toResizableBuffer();
    return ['resizable', 'toResizableBuffer'];
  } catch (e) {
    if (want === true) throw new NogrowError(`nogrow.attach: toResizableBuffer failed: ${e.message}`, 0, { cause: e });
    return ['fixed', 'memory declares no maximum (toResizableBuffer refused)'];
  }
}

class Views {
  constructor(exports, memory, mode, reason) {
    /** The guest's exports. */
    this.exports = exports;
    /** The guest's memory. */
    this.memory = memory;
    /** 'fixed' | 'resizable' | 'shared'. */
    this.mode = mode;
    /** Why this mode was chosen. */
    this.reason = reason;
    this._listeners = [];
    this._wrapped = null;
    this._growths = 0;
    const ptr = typeof exports.nogrow_state === 'function' ? exports.nogrow_state() >>> 0 : null;
    /** Address of nogrow's state block, or null for a guest without nogrow. */
    this.statePtr = ptr;
    this._take(memory.buffer);
    if (ptr !== null) {
      const version = new DataView(this._buffer).getUint32(ptr + STATE_OFFSETS.abiVersion, true);
      if (version !== ABI_VERSION) {
        throw new NogrowError(`nogrow.attach: state block ABI version ${version}, this module reads ${ABI_VERSION}`);
      }
    }
  }

  _take(buffer) {
    this._buffer = buffer;
    this._bytes = buffer.byteLength;
    this._u8 = new Uint8Array(buffer);
    this._i8 = new Int8Array(buffer);
    this._u16 = new Uint16Array(buffer);
    this._i16 = new Int16Array(buffer);
    this._u32 = new Uint32Array(buffer);
    this._i32 = new Int32Array(buffer);
    this._f32 = new Float32Array(buffer);
    this._f64 = new Float64Array(buffer);
    this._u64 = new BigUint64Array(buffer);
    this._i64 = new BigInt64Array(buffer);
    this._dv = new DataView(buffer);
  }

  /** Renews the views from `memory.buffer`; tells listeners if memory grew. */
  _renew() {
    const old = this._bytes;
    this._take(this.memory.buffer);
    if (this._bytes !== old) this._grew(old, this._bytes);
  }

  _grew(oldBytes, newBytes) {
    this._growths++;
    const event = { oldBytes, newBytes, generation: this.generation };
    for (const fn of this._listeners.slice()) fn(event);
  }

  _word(offset) {
    return this.dataView.getUint32(this.statePtr + offset, true);
  }

  /**
   * Checks for growth now (the getters and wrapped calls do it for you).
   * Returns whether memory grew since the last check; listeners are told.
   */
  poll() {
    if (this.memory.buffer.byteLength === this._bytes) return false;
    this._renew();
    return true;
  }

  /**
   * nogrow's generation counter (+1 per growth), read from the state block; for
   * a guest without nogrow, the growths this module has seen.
   */
  get generation() {
    return this.statePtr === null ? this._growths : this._word(STATE_OFFSETS.generation);
  }

  /** The memory size in bytes now. */
  get byteLength() {
    return this.memory.buffer.byteLength;
  }

  /** The decoded state block, or null for a guest without nogrow. */
  stats() {
    if (this.statePtr === null) return null;
    const w = (o) => this._word(o);
    const O = STATE_OFFSETS;
    return {
      generation: w(O.generation),
      abiVersion: w(O.abiVersion),
      policy: POLICY_NAMES[w(O.policy)] ?? null,
      pages: w(O.pages),
      arenaBytes: w(O.arenaBytes),
      inUse: w(O.inUse),
      peakInUse: w(O.peakInUse),
      allocs: w(O.allocs),
      frees: w(O.frees),
      reallocs: w(O.reallocs),
      failures: w(O.failures),
      growths: w(O.growths),
      reserveStatus: w(O.reserveStatus) | 0,
      limitPages: w(O.limitPages),
      memoryBytes: this.byteLength,
    };
  }

  /** The last failed allocation, or null if none failed (or no nogrow). */
  lastFailure() {
    if (this.statePtr === null) return null;
    const O = STATE_OFFSETS;
    if (this._word(O.failures) === 0) return null;
    return {
      size: this._word(O.lastFailSize),
      align: this._word(O.lastFailAlign),
      inUse: this._word(O.lastFailInUse),
      arenaBytes: this._word(O.lastFailArena),
      policy: POLICY_NAMES[this._word(O.policy)] ?? null,
      limitPages: this._word(O.limitPages),
      failures: this._word(O.failures),
    };
  }

  /**
   * Calls `fn({ oldBytes, newBytes, generation })` when memory growth is
   * noticed: by a view getter (fixed and shared modes), a wrapped call, or
   * `poll()` (in resizable mode only these two). Returns an unsubscribe function.
   */
  onGrow(fn) {
    if (typeof fn !== 'function') throw new TypeError('onGrow expects a function');
    this._listeners.push(fn);
    return () => {
      const i = this._listeners.indexOf(fn);
      if (i >= 0) this._listeners.splice(i, 1);
    };
  }

  /**
   * The Reserve policy's one growth, done by the host right after
   * instantiation: `nogrow_reserve(pages)` (0: the compile-time amount).
   * Returns the pages memory grew by; throws a NogrowError with the guest's
   * code on failure.
   */
  reserve(pages = 0) {
    if (typeof this.exports.nogrow_reserve !== 'function') {
      throw new NogrowError('reserve: the guest exports no nogrow_reserve (not a nogrow guest)');
    }
    const before = this.memory.buffer.byteLength;
    const code = this.exports.nogrow_reserve(pages >>> 0) | 0;
    this.poll();
    if (code !== 0) {
      const why = RESERVE_ERRORS.get(code) ?? 'unknown error';
      throw new NogrowError(`nogrow_reserve(${pages}) failed: ${why} (code ${code})`, code);
    }
    return (this.memory.buffer.byteLength - before) / PAGE_SIZE;
  }

  /**
   * Decodes `len` bytes of UTF-8 at `ptr`. Works in every mode (views on
   * resizable or shared buffers are copied first: TextDecoder rejects them).
   */
  readString(ptr, len) {
    const u8 = this.u8;
    const end = ptr + len;
    if (!(ptr >= 0 && len >= 0 && end <= u8.length)) {
      throw new RangeError(`readString(${ptr}, ${len}) is outside memory (${u8.length} bytes)`);
    }
    return decoder.decode(this.mode === 'fixed' ? u8.subarray(ptr, end) : u8.slice(ptr, end));
  }

  /**
   * Writes `str` as UTF-8 at `ptr` and returns the bytes written. Throws a
   * RangeError (writing nothing) if it needs more than `capacity` bytes or
   * runs past the end of memory.
   */
  writeString(ptr, str, capacity = Infinity) {
    const bytes = encoder.encode(str);
    const u8 = this.u8;
    if (bytes.length > capacity) {
      throw new RangeError(`writeString: ${bytes.length} bytes do not fit in ${capacity}`);
    }
    if (!(ptr >= 0 && ptr + bytes.length <= u8.length)) {
      throw new RangeError(`writeString(${ptr}, …${bytes.length} bytes) is outside memory (${u8.length} bytes)`);
    }
    u8.set(bytes, ptr);
    return bytes.length;
  }

  /**
   * `fn` wrapped: an out-of-memory trap (a RuntimeError after the guest
   * recorded a failed allocation) becomes an OutOfArenaMemory error explained
   * from the last-failure record; growth is noticed after every call.
   */
  wrap(fn) {
    if (typeof fn !== 'function') throw new TypeError('wrap expects a function');
    const self = this;
    const hasState = this.statePtr !== null;
    return function nogrowWrapped(...args) {
      const before = hasState ? self._word(STATE_OFFSETS.failures) : 0;
      try {
        return fn.apply(this, args);
      } catch (e) {
        throw self._explain(e, before);
      } finally {
        self.poll();
      }
    };
  }

  _explain(error, failuresBefore) {
    if (!(error instanceof WebAssembly.RuntimeError) || this.statePtr === null) return error;
    const failure = this.lastFailure();
    if (failure === null || failure.failures === failuresBefore) return error;
    return new OutOfArenaMemory(describeFailure(failure), failure, { cause: error });
  }

  /** Every function export, wrapped with `wrap`. */
  get calls() {
    if (this._wrapped === null) {
      const out = {};
      for (const [name, value] of Object.entries(this.exports)) {
        if (typeof value === 'function') out[name] = this.wrap(value);
      }
      this._wrapped = Object.freeze(out);
    }
    return this._wrapped;
  }

  /** Calls the export `name` through `wrap`. */
  call(name, ...args) {
    const fn = this.calls[name];
    if (fn === undefined) throw new TypeError(`the guest exports no function ${name}`);
    return fn(...args);
  }
}

// 'fixed': a detached view has length 0; one check renews all views.
class FixedViews extends Views {
  get u8() { if (this._u8.length === 0) this._renew(); return this._u8; }
  get i8() { if (this._u8.length === 0) this._renew(); return this._i8; }
  get u16() { if (this._u8.length === 0) this._renew(); return this._u16; }
  get i16() { if (this._u8.length === 0) this._renew(); return this._i16; }
  get u32() { if (this._u8.length === 0) this._renew(); return this._u32; }
  get i32() { if (this._u8.length === 0) this._renew(); return this._i32; }
  get f32() { if (this._u8.length === 0) this._renew(); return this._f32; }
  get f64() { if (this._u8.length === 0) this._renew(); return this._f64; }
  get u64() { if (this._u8.length === 0) this._renew(); return this._u64; }
  get i64() { if (this._u8.length === 0) this._renew(); return this._i64; }
  get dataView() { if (this._u8.length === 0) this._renew(); return this._dv; }
  poll() {
    if (this._u8.length !== 0) return false;
    const old = this._bytes;
    this._renew();
    return this._bytes !== old;
  }
}

// 'resizable': length-tracking views follow growth; no checks.
class ResizableViews extends Views {
  get u8() { return this._u8; }
  get i8() { return this._i8; }
  get u16() { return this._u16; }
  get i16() { return this._i16; }
  get u32() { return this._u32; }
  get i32() { return this._i32; }
  get f32() { return this._f32; }
  get f64() { return this._f64; }
  get u64() { return this._u64; }
  get i64() { return this._i64; }
  get dataView() { return this._dv; }
  poll() {
    const now = this._buffer.byteLength;
    if (now === this._bytes) return false;
    const old = this._bytes;
    this._bytes = now;
    this._grew(old, now);
    return true;
  }
}

// 'shared': views never detach but keep their length; compare generations.
class SharedViews extends Views {
  constructor(exports, memory, mode, reason) {
    super(exports, memory, mode, reason);
    // The state block is static data: this view of it never needs renewing.
    this._gen32 = this.statePtr === null ? null : new Int32Array(this._buffer, this.statePtr, STATE_SIZE >>> 2);
    this._seen = this._gen32 === null ? 0 : Atomics.load(this._gen32, 0);
  }
  _check() {
    if (this._gen32 === null) {
      if (this.memory.buffer.byteLength !== this._bytes) this._renew();
    } else if (Atomics.load(this._gen32, 0) !== this._seen) {
      this._seen = Atomics.load(this._gen32, 0);
      this._renew();
    }
  }
  _word(offset) {
    return Atomics.load(this._gen32, offset >>> 2) >>> 0;
  }
  get u8() { this._check(); return this._u8; }
  get i8() { this._check(); return this._i8; }
  get u16() { this._check(); return this._u16; }
  get i16() { this._check(); return this._i16; }
  get u32() { this._check(); return this._u32; }
  get i32() { this._check(); return this._i32; }
  get f32() { this._check(); return this._f32; }
  get f64() { this._check(); return this._f64; }
  get u64() { this._check(); return this._u64; }
  get i64() { this._check(); return this._i64; }
  get dataView() { this._check(); return this._dv; }
  poll() {
    if (this.memory.buffer.byteLength === this._bytes) return false;
    this._seen = this._gen32 === null ? 0 : Atomics.load(this._gen32, 0);
    this._renew();
    return true;
  }
}

/**
 * For guests built with nogrow's `host-notify` feature, which import
 * `nogrow.memory_grown(old_pages, new_pages)` and call it synchronously after
 * every growth nogrow performs. Pass `notifier.imports` when instantiating,
 * then `attach(instance, { notifier })`: the views renew and `onGrow`
 * listeners run inside the growth, before the guest call returns. Listeners
 * must not call back into the guest from there (nogrow holds its lock).
 */
export function growthNotifier() {
  const notifier = {
    target: null,
    imports: {
      nogrow: {
        memory_grown(oldPages, newPages) {
          notifier.target?.poll();
        },
      },
    },
  };
  return notifier;
}

/**
 * Attaches to a guest: `source` is a WebAssembly.Instance, its exports, or
 * `{ instance }`. Options: `memory` (when the guest does not export it),
 * `resizable` ('auto' default | true | false), `notifier` (from
 * `growthNotifier()`, for guests built with nogrow's `host-notify`).
 *
 * In 'auto' mode on an engine with `toResizableBuffer`, attaching switches the
 * memory's buffer to a resizable one, which detaches views made before: attach
 * first, then use the returned views.
 */
export function attach(source, options = {}) {
  const { exports, memory } = resolve(source, options);
  const [mode, reason] = chooseMode(exports, memory, options);
  const Kind = mode === 'shared' ? SharedViews : mode === 'resizable' ? ResizableViews : FixedViews;
  const views = new Kind(exports, memory, mode, reason);
  if (options.notifier) options.notifier.target = views;
  return views;
}
