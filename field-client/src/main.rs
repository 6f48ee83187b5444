//! `field`: the technician's command line on the tablet. Works offline; every command that
//! changes something has committed it to the local store before it prints.

mod cli;
mod report;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Usage errors exit with 2 from inside `parse`, as clap does.
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`field jobs | head`): stop quietly, as Unix
        // tools do.
        Err(error) if report::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, in the technician's words; the messages carry what to do next.
            eprintln!("field: {error:#}");
            ExitCode::FAILURE
        }
    }
}
