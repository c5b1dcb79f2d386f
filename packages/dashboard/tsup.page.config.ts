import { defineConfig } from 'tsup';

// The page's script, with uPlot and the style sheets, bundled for the browser into
// dist/page/ (page.js, page.css), which the handler inlines into the page it serves.
export default defineConfig({
  entry: { page: 'page/app.ts' },
  outDir: 'dist/page',
  format: ['iife'],
  platform: 'browser',
  target: 'es2020',
  minify: true,
  noExternal: [/.*/],
  dts: false,
  sourcemap: false,
  clean: true,
  outExtension: () => ({ js: '.js' }),
});
