/// <reference types="vitest" />
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

// The API docs page (/docs) loads Swagger UI from this origin, never from a CDN: the
// origin's localStorage holds the login token (docs/operations.md, "Security"). The
// backend serves these files from dist/swagger/ (backend/api/docs.py).
const SWAGGER_FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];

function swaggerUiAssets(): Plugin {
  return {
    name: "fillbook-swagger-ui-assets",
    apply: "build",
    generateBundle() {
      const folder = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
      for (const name of SWAGGER_FILES) {
        this.emitFile({ type: "asset", fileName: `swagger/${name}`, source: readFileSync(join(folder, name)) });
      }
    },
  };
}

// `npm run dev` proxies the API to a backend on :8000 (`make run`).
export default defineConfig({
  plugins: [react(), swaggerUiAssets()],
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", ws: true },
    },
  },
  build: {
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      output: {
        manualChunks: {
          react: ["react", "react-dom", "react-router-dom"],
        },
      },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
