import pkg from '../../package.json';
export const BUILD_VERSION: string = pkg.version;
