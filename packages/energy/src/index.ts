/**
 * Not implemented yet: this package is reserved and exports nothing. See the repository's issues
 * for the work that fills it.
 */
export {};
