// Barrel of src/nn (filled by its owner).
export {};
