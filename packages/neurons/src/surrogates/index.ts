// Barrel of src/surrogates (filled by its owner).
export {};
