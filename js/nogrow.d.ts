// Types for nogrow.mjs: views of a WebAssembly guest's memory that stay valid.

/** Byte offsets of the fields of nogrow's state block. */
export declare const STATE_OFFSETS: Readonly<{
  generation: 0; abiVersion: 4; policy: 8; pages: 12; arenaBytes: 16; inUse: 20;
  peakInUse: 24; allocs: 28; frees: 32; reallocs: 36; failures: 40; growths: 44;
  lastFailSize: 48; lastFailAlign: 52; lastFailInUse: 56; lastFailArena: 60;
  reserveStatus: 64; limitPages: 68;
}>;
/** Size in bytes of nogrow's state block. */
export declare const STATE_SIZE: 76;
/** The state layout version this module reads. */
export declare const ABI_VERSION: 1;
/** Bytes in a WebAssembly page. */
export declare const PAGE_SIZE: 65536;

export type PolicyName = 'Fail' | 'Reserve' | 'Signal';
export type Mode = 'fixed' | 'resizable' | 'shared';

/** The decoded state block. */
export interface Stats {
  generation: number;
  abiVersion: number;
  /** null until the guest's first allocation or reserve. */
  policy: PolicyName | null;
  pages: number;
  arenaBytes: number;
  inUse: number;
  peakInUse: number;
  allocs: number;
  frees: number;
  reallocs: number;
  failures: number;
  growths: number;
  /** 0 none, 1 done, or a negative nogrow_reserve code. */
  reserveStatus: number;
  limitPages: number;
  /** memory.buffer.byteLength now. */
  memoryBytes: number;
}

/** The last failed allocation. */
export interface Failure {
  size: number;
  align: number;
  inUse: number;
  arenaBytes: number;
  policy: PolicyName | null;
  limitPages: number;
  /** Failures so far. */
  failures: number;
}

export interface GrowEvent {
  oldBytes: number;
  newBytes: number;
  generation: number;
}

export interface AttachOptions {
  /** The memory, when the guest does not export it as `memory`. */
  memory?: WebAssembly.Memory;
  /** Length-tracking views over a resizable buffer: 'auto' (default), true (required), false (never). */
  resizable?: 'auto' | boolean;
  /** From growthNotifier(), for guests built with nogrow's host-notify feature. */
  notifier?: GrowthNotifier;
}

/** The `nogrow.memory_grown` import of guests built with nogrow's host-notify feature. */
export interface GrowthNotifier {
  /** Pass to WebAssembly.instantiate (merge with your other imports). */
  readonly imports: { nogrow: { memory_grown(oldPages: number, newPages: number): void } };
  /** The views it renews; set by attach(…, { notifier }). */
  target: NogrowViews | null;
}

/** A notifier: views renew and onGrow listeners run inside the guest's growth. Listeners must not call the guest. */
export declare function growthNotifier(): GrowthNotifier;

/** An error about the nogrow ABI; `code` is the guest's code (e.g. nogrow_reserve's). */
export declare class NogrowError extends Error {
  constructor(message: string, code?: number, options?: ErrorOptions);
  readonly code: number;
}

/** An out-of-memory trap explained from the guest's last-failure record; `cause` is the RuntimeError. */
export declare class OutOfArenaMemory extends Error {
  constructor(message: string, failure: Failure, options?: ErrorOptions);
  readonly failure: Failure;
}

/** "out of arena memory: requested N bytes (align A); arena X, in use Y; policy P — hint". */
export declare function describeFailure(f: Pick<Failure, 'size' | 'align' | 'inUse' | 'arenaBytes' | 'policy'> & { limitPages?: number }): string;

type AnyFn = (...args: any[]) => any;

/** Views of a guest's memory that are valid whenever read. Do not keep a view across a guest call. */
export interface NogrowViews<E extends WebAssembly.Exports = WebAssembly.Exports> {
  readonly exports: E;
  readonly memory: WebAssembly.Memory;
  readonly mode: Mode;
  /** Why this mode was chosen. */
  readonly reason: string;
  /** Address of nogrow's state block, or null for a guest without nogrow. */
  readonly statePtr: number | null;

  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly u64: BigUint64Array;
  readonly i64: BigInt64Array;
  readonly dataView: DataView;

  /** nogrow's generation counter (growths seen by the guest); without nogrow, growths this module saw. */
  readonly generation: number;
  /** memory.buffer.byteLength now. */
  readonly byteLength: number;

  /** The decoded state block, or null for a guest without nogrow. */
  stats(): Stats | null;
  /** The last failed allocation, or null. */
  lastFailure(): Failure | null;
  /**
   * Calls fn when growth is noticed: by a view getter (fixed and shared modes),
   * a wrapped call, or poll() (all modes; in resizable mode only these two).
   * Returns an unsubscribe function.
   */
  onGrow(fn: (event: GrowEvent) => void): () => void;
  /** Checks for growth now; returns whether memory grew since the last check. */
  poll(): boolean;
  /** nogrow_reserve(pages) (0: the compile-time amount); returns the pages grown, throws NogrowError on failure. */
  reserve(pages?: number): number;
  /** Decodes len bytes of UTF-8 at ptr (works on resizable and shared memory). */
  readString(ptr: number, len: number): string;
  /** Writes str as UTF-8 at ptr; returns the bytes written. RangeError if it exceeds capacity or memory. */
  writeString(ptr: number, str: string, capacity?: number): number;
  /** fn with out-of-memory traps turned into OutOfArenaMemory, and growth noticed after each call. */
  wrap<F extends AnyFn>(fn: F): F;
  /** Every function export, wrapped. */
  readonly calls: { readonly [K in keyof E as E[K] extends AnyFn ? K : never]: E[K] };
  /** Calls the export name through wrap. */
  call(name: string, ...args: unknown[]): unknown;
}

/** Attaches to a guest (an Instance, its exports, or { instance }). */
export declare function attach<E extends WebAssembly.Exports = WebAssembly.Exports>(
  source: WebAssembly.Instance | E | { instance: WebAssembly.Instance },
  options?: AttachOptions,
): NogrowViews<E>;
