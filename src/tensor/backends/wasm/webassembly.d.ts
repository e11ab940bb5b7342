/**
 * The part of the WebAssembly JavaScript API that ./gemm.ts uses. Node has it as a global, but
 * TypeScript declares it only in its DOM libraries, which this project does not load.
 */
declare namespace WebAssembly {
  interface Module {}
  var Module: { new (bytes: Uint8Array): Module };
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  var Instance: { new (module: Module, imports: Record<string, Record<string, unknown>>): Instance };
  interface Memory {
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(pages: number): number;
  }
  var Memory: { new (descriptor: { initial: number; maximum?: number; shared?: boolean }): Memory };
  /** Whether the engine accepts these bytes as a module (./gemm.ts asks whether it has relaxed SIMD). */
  function validate(bytes: Uint8Array): boolean;
}
