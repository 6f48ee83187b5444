//! What `fieldsync-server dev` prints once it is ready: where it is, who can sign in, what next.

use std::path::Path;

use super::demo::DemoFile;

pub fn print(demo: &DemoFile, data_dir: &Path, object_store: &str) {
    let mut text = String::new();
    text.push_str("\nFieldsync is running on its embedded default.\n\n");
    text.push_str(&format!(
        "  office console  {}/console  (sign in with a name and password below)\n",
        demo.base_url
    ));
    text.push_str(&format!("  base URL        {}\n", demo.base_url));
    text.push_str(&format!("  data directory  {}\n", data_dir.display()));
    text.push_str(&format!("  object store    {object_store} (in process)\n"));
    text.push_str(&format!(
        "  demo data       {}\n\n",
        data_dir.join("demo.json").display()
    ));
    text.push_str("  Demo staff, their console passwords and their tokens:\n");
    for member in &demo.staff {
        text.push_str(&format!(
            "    {:<11} {}  {:<17} {}\n",
            member.role.as_str(),
            member.name,
            member.password.as_deref().unwrap_or("(tablet)"),
            member.token
        ));
    }
    if let Some(dispatcher) = demo.staff.iter().find(|s| s.role.as_str() == "dispatcher") {
        text.push_str("\n  Try:\n");
        text.push_str(&format!("    curl {}/readyz\n", demo.base_url));
        text.push_str(&format!(
            "    curl -H 'Authorization: Bearer {}' {}/api/v1/me\n",
            dispatcher.token, demo.base_url
        ));
    }
    text.push_str("\n  Webhooks may target loopback and private addresses in dev mode.\n");
    text.push_str("  Ctrl-C stops the server and its database.\n");
    println!("{text}");
}
