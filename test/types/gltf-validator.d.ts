/** The Khronos glTF validator ships no types; the part the tests use, as its README documents it. */
declare module 'gltf-validator' {
  export interface ValidationReport {
    readonly issues: {
      readonly numErrors: number;
      readonly numWarnings: number;
      readonly messages: readonly { readonly code: string; readonly message: string; readonly severity: number; readonly pointer?: string }[];
    };
    readonly info?: Readonly<Record<string, unknown>>;
  }
  export function validateBytes(data: Uint8Array, options?: { readonly format?: 'glb' | 'gltf'; readonly writeTimestamp?: boolean; readonly maxIssues?: number }): Promise<ValidationReport>;
}
