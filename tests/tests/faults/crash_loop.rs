//! `kill -9` of the server at random moments while four tablets record notes and sync. A ledger
//! keeps every note whose `field sync` exited 0 (the tablet was told it reached the office); after
//! the last restart every one of them is on the server exactly once, and no note is there twice.

use std::collections::BTreeMap;
use std::time::Duration;

use harness::TestApp;
use harness::process::ServerProcess;
use harness::tablet::Tablet;
use rand::{Rng, SeedableRng};

use crate::support::{free_port, log_in_and_sync, server_notes};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test]
async fn no_acknowledged_note_is_lost_or_doubled_across_server_crashes() {
    let rounds = setting("FIELDSYNC_FAULT_ROUNDS", 6);
    let seed = setting("FIELDSYNC_FAULT_SEED", 20261128);
    eprintln!("crash loop: FIELDSYNC_FAULT_ROUNDS={rounds} FIELDSYNC_FAULT_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    // Two jobs per technician; each technician works on two tablets.
    let mut jobs = Vec::new();
    for technician in [&crew.technician, &crew.other_technician] {
        for _ in 0..2 {
            let job = app.book(&crew, Some(technician.staff.id)).await;
            jobs.push((
                technician.token.clone(),
                job["id"].as_str().unwrap().to_owned(),
            ));
        }
    }
    let port = free_port();
    let mut server = Some(ServerProcess::start(&app.database.url, &app.objects.config, port).await);
    let base_url = format!("http://127.0.0.1:{port}");
    let mut tablets = Vec::new();
    for t in 0..4 {
        let tablet = Tablet::new();
        let token = &jobs[(t / 2) * 2].0;
        log_in_and_sync(&tablet, &base_url, token).await;
        let mine = [jobs[(t / 2) * 2].1.clone(), jobs[(t / 2) * 2 + 1].1.clone()];
        tablets.push((tablet, mine));
    }

    let mut recorded: Vec<Vec<(String, String)>> = vec![Vec::new(); tablets.len()];
    let mut acknowledged: BTreeMap<String, String> = BTreeMap::new();
    let mut kills = 0;
    let mut failed_syncs = 0;
    for round in 0..rounds {
        for (t, (tablet, mine)) in tablets.iter().enumerate() {
            let job = &mine[usize::try_from(round).unwrap() % 2];
            let note = format!("第{round}轮 平板{t} 更换了进水阀");
            tablet.json(&["work", job, "--note", &note]).await;
            recorded[t].push((job.clone(), note));
        }
        let syncs = futures_util::future::join_all(
            tablets
                .iter()
                .map(|(tablet, _)| tablet.command(&["--json", "sync"]).output()),
        );
        // Killed at a random moment of the syncs, and down for a random while: long enough,
        // some rounds, that a tablet gives up (its sync exits 1, nothing acknowledged).
        let kill_after = Duration::from_millis(rng.random_range(0..1500));
        let down_for = Duration::from_millis(rng.random_range(0..6000));
        let crash = async {
            tokio::time::sleep(kill_after).await;
            server.take().unwrap().kill().await;
            tokio::time::sleep(down_for).await;
            ServerProcess::start(&app.database.url, &app.objects.config, port).await
        };
        let (outputs, restarted) = tokio::join!(syncs, crash);
        server = Some(restarted);
        kills += 1;
        for (t, output) in outputs.into_iter().enumerate() {
            if output.unwrap().status.success() {
                for (job, note) in &recorded[t] {
                    acknowledged.insert(note.clone(), job.clone());
                }
            } else {
                failed_syncs += 1;
            }
        }
    }

    // Every tablet finishes its sync with the server that is up now.
    for (tablet, _) in &tablets {
        tablet.json(&["sync"]).await;
    }
    let mut on_server: BTreeMap<String, usize> = BTreeMap::new();
    for (_, job) in &jobs {
        for line in server_notes(&base_url, &app, &crew, job).await {
            *on_server.entry(line).or_default() += 1;
        }
    }
    let lost: Vec<&String> = acknowledged
        .keys()
        .filter(|note| !on_server.contains_key(*note))
        .collect();
    let doubled: Vec<(&String, &usize)> = on_server.iter().filter(|(_, n)| **n > 1).collect();
    let total: usize = recorded.iter().map(Vec::len).sum();
    eprintln!(
        "crash loop: {rounds} rounds, {kills} kills, {failed_syncs} syncs ended unfinished, \
         {total} notes recorded, {} acknowledged before the end, {} lost, {} doubled",
        acknowledged.len(),
        lost.len(),
        doubled.len()
    );
    assert!(lost.is_empty(), "acknowledged notes lost: {lost:?}");
    assert!(doubled.is_empty(), "notes stored twice: {doubled:?}");
    assert_eq!(
        on_server.len(),
        total,
        "every note recorded reached the office in the end"
    );
    drop(server);
}
