//! Placeholder until the compiler wrapper lands.
pub fn is_wrapped_tool(_name: &str) -> bool {
    false
}
pub fn run_as_wrapper(_tool: &str, _args: Vec<String>) -> i32 {
    2
}
