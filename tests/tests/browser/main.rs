//! The screens in a real browser (issue 13 item 5): headless Chromium through chromedriver
//! (`epermit_tests::browser`), against the service on the embedded default.
//! `EPERMIT_SCREENSHOTS=1` also writes the screenshots to `docs/screens/`.

mod app;
mod console;
mod desk;
mod harness;
