//! `fieldsync-server dev` (what `scripts/run` starts): a private cluster, the in-process S3
//! endpoint, demo data with working tokens, and a clean stop that leaves no PostgreSQL behind.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use harness::postgres::test_root;
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::support::{free_port, processes_mentioning, wait_for_status};

const START_LIMIT: Duration = Duration::from_secs(60);

fn start(data_dir: &Path, port: u16) -> Child {
    let log = std::fs::File::create(data_dir.with_extension("log")).unwrap();
    Command::new(harness::binaries::path("fieldsync-server"))
        .args(["dev", "--data-dir"])
        .arg(data_dir)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // An operator's setting, taken from the environment like every other.
        .env("FIELDSYNC_DOCUMENT_CACHE", "250")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("starting fieldsync-server dev")
}

async fn interrupt_and_wait(mut child: Child) {
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stops within 30 s of Ctrl-C")
        .unwrap();
    assert!(exit.success(), "a clean stop exits 0, got {exit}");
}

fn demo(data_dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(data_dir.join("demo.json")).unwrap()).unwrap()
}

#[tokio::test]
async fn dev_mode_seeds_demo_data_once_and_stops_cleanly() {
    let data_dir = test_root().join(format!("dev-{}", uuid::Uuid::new_v4().simple()));
    let client = reqwest::Client::new();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = start(&data_dir, port);
    wait_for_status(&client, &format!("{base}/readyz"), 200, START_LIMIT).await;

    let first = demo(&data_dir);
    assert_eq!(first["base_url"], base);
    let staff = first["staff"].as_array().unwrap();
    let roles: Vec<&str> = staff.iter().map(|s| s["role"].as_str().unwrap()).collect();
    for role in ["admin", "dispatcher", "technician", "revisit"] {
        assert!(roles.contains(&role), "demo staff include a {role}");
    }
    assert_eq!(roles.iter().filter(|r| **r == "technician").count(), 2);
    // Office staff get a console password; technicians use their tablets.
    for member in staff {
        let office = member["role"] != "technician";
        assert_eq!(member["password"].is_string(), office, "{member}");
    }
    for member in staff {
        let me: Value = client
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(member["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["staff_id"], member["id"], "the token works");
        assert_eq!(me["role"], member["role"]);
        assert_eq!(me["organisation_id"], first["organisation_id"]);
    }
    let customers = first["customers"].as_array().unwrap();
    assert_eq!(customers.len(), 3);
    assert_eq!(customers.iter().filter(|c| c["tier"] == "key").count(), 1);
    let jobs = first["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3, "today's demo jobs");
    let dispatcher = staff.iter().find(|s| s["role"] == "dispatcher").unwrap();
    for job in jobs {
        assert!(
            job["document_url"]
                .as_str()
                .unwrap()
                .starts_with("automerge:")
        );
        let response = client
            .get(format!(
                "{base}/api/v1/jobs/{}",
                job["id"].as_str().unwrap()
            ))
            .bearer_auth(dispatcher["token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "the demo job exists");
    }
    assert_eq!(
        harness::app::metric_at(&base, "fieldsync_documents_cache_capacity").await,
        250.0,
        "the document cache takes the operator's size"
    );

    interrupt_and_wait(child).await;
    let cluster_dir = data_dir.join("postgres").display().to_string();
    assert_eq!(
        processes_mentioning(&cluster_dir),
        Vec::<String>::new(),
        "no PostgreSQL left behind"
    );

    // A second start reuses the data: same organisation, the first tokens still work.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = start(&data_dir, port);
    wait_for_status(&client, &format!("{base}/readyz"), 200, START_LIMIT).await;
    let second = demo(&data_dir);
    assert_eq!(second["organisation_id"], first["organisation_id"]);
    assert_eq!(second["jobs"], first["jobs"], "jobs are seeded once");
    assert_eq!(second["base_url"], base);
    let token = staff[0]["token"].as_str().unwrap();
    let response = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Started again right after a kill -9, while the old cluster is still shutting down: it
    // waits for the old postmaster to go, then starts.
    let mut child = child;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = start(&data_dir, port);
    wait_for_status(&client, &format!("{base}/readyz"), 200, START_LIMIT).await;
    let response = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the data survived the crash");

    // An operator restarts the cluster from outside: the new postmaster is not the server's
    // child, and still stops with the server.
    restart_from_outside(&data_dir.join("postgres/data"));
    wait_for_status(&client, &format!("{base}/readyz"), 200, START_LIMIT).await;
    interrupt_and_wait(child).await;
    assert_eq!(
        processes_mentioning(&cluster_dir),
        Vec::<String>::new(),
        "no PostgreSQL left behind"
    );
}

/// `pg_ctl restart` on the cluster's directory, as its owner would run it.
fn restart_from_outside(cluster: &Path) {
    let pg_ctl = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .filter_map(Result::ok)
        .map(|version| version.path().join("bin/pg_ctl"))
        .filter(|path| path.exists())
        .max()
        .expect("pg_ctl of the machine's PostgreSQL");
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        .starts_with(b"0\n");
    let mut command = if root {
        let mut command = std::process::Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(&pg_ctl);
        command
    } else {
        std::process::Command::new(&pg_ctl)
    };
    let status = command
        .arg("-D")
        .arg(cluster)
        .args(["-m", "fast", "-w", "-l", "/dev/null", "restart"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl restart");
}
