// Barrel of src/neurons (filled by its owner).
export {};
