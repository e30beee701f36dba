// Node-only file IO (filled by the io owner).
export {};
