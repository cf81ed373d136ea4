#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod files;
pub mod qr_image;
