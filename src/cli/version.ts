import { version } from '../../package.json';

/** The package's version, bundled at build time (the CLI ships without package.json beside it). */
export const VERSION: string = version;
