/** Types of scripts/wasm.mjs, for the test that checks its output (test/lzWasm.test.ts). */
export declare const WASM_MODULES: readonly { wat: string; module: string; name: string }[];
export declare function assemble(root: string, wat: string, name: string): Promise<string>;
