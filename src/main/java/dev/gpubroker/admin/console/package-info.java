/**
 * The operator's web console at {@code /console}: a static page built by Vite from {@code src/main/console} into the
 * jar, which calls the admin API with the admin token (docs/console.md). This package only serves it and sets what a
 * browser must be told to keep it safe; every decision stays with the admin API.
 */
package dev.gpubroker.admin.console;
