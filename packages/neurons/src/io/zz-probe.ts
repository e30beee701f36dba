export const x = (c: number) => c;
