/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API to a server on :5000 (RUNLORE_DEV_API overrides).
const api = process.env.RUNLORE_DEV_API ?? "http://127.0.0.1:5000";

export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/api": api, "/health": api } },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  test: {
    environment: "jsdom",
    globals: true,
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
  },
});
