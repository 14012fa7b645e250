/** Tests are TypeScript ESM, compiled on the fly by ts-jest. */
export default {
  // ONNX Runtime allocates outputs outside jest's sandbox; this environment shares the realm's typed arrays.
  testEnvironment: '<rootDir>/test/helpers/onnx-environment.js',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120000,
};
