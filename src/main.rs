//! The `emwheel` binary: the command line, or the compiler wrapper when reached through a
//! `cc`/`c++`/`ar`/… link during a build.

use std::process::ExitCode;

use emwheel::toolchain::wrapper;

fn main() -> ExitCode {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_default();
    let invoked_as = std::path::Path::new(&argv0)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    if wrapper::is_wrapped_tool(&invoked_as) {
        let code = wrapper::run_as_wrapper(&invoked_as, args.collect());
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    emwheel::cli::main()
}
