// Barrel of src/monitor (filled by its owner).
export {};
