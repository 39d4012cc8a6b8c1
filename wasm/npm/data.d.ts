// The package's static data as a JavaScript module (`make pkg` writes this file's copies).
declare const data: Record<string, unknown>;
export default data;
