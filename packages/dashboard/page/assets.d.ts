// Style sheets are bundled by tsup (esbuild) beside the script; they export nothing.
declare module '*.css';
