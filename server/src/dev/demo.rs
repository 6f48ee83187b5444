//! Demo data for the embedded default, seeded once, and `demo.json`, which hands the tokens to
//! whoever runs it. The tokens exist in clear only in that file (mode 0600).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use chrono::Utc;

use crate::AppState;
use crate::auth::{Caller, DeviceToken};
use crate::directory::{Customer, NewCustomer, NewStaff, Organisation, Role, Staff, Tier};
use crate::jobs::{BookJob, book_job};

/// The contents of `<data dir>/demo.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoFile {
    pub base_url: String,
    pub organisation_id: Uuid,
    pub staff: Vec<DemoStaff>,
    pub customers: Vec<DemoCustomer>,
    pub jobs: Vec<DemoJob>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct DemoStaff {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub token: String,
    /// The console password of office staff (not technicians: they use their tablets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl std::fmt::Debug for DemoStaff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoStaff")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoCustomer {
    pub id: Uuid,
    pub name: String,
    pub tier: Tier,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoJob {
    pub id: Uuid,
    pub document_url: String,
    pub technician_id: Uuid,
}

const ORGANISATION: &str = "安居家电服务有限公司";
const STAFF: [(&str, Role); 5] = [
    ("赵敏", Role::Admin),
    ("李娜", Role::Dispatcher),
    ("张伟", Role::Technician),
    ("陈强", Role::Technician),
    ("刘芳", Role::Revisit),
];
const CUSTOMERS: [(&str, &str, &str, Tier); 3] = [
    (
        "王秀英",
        "13800138001",
        "上海市浦东新区张杨路1588号12楼1203室",
        Tier::Key,
    ),
    (
        "李建华",
        "13900139002",
        "北京市朝阳区望京西路48号院3号楼502室",
        Tier::Regular,
    ),
    (
        "周敏",
        "13700137003",
        "广州市天河区体育西路103号维多利广场B座1806室",
        Tier::Prospect,
    ),
];

/// Returns the demo data, seeding it on the first start and reusing it afterwards. `base_url`
/// is refreshed, since a later start may listen elsewhere.
pub async fn ensure(state: &AppState, path: &Path, base_url: &str) -> anyhow::Result<DemoFile> {
    let db = &state.db;
    if let Some(mut demo) = read(path)?
        && Organisation::find(db, demo.organisation_id)
            .await?
            .is_some()
    {
        demo.base_url = base_url.to_owned();
        write(path, &demo)?;
        return Ok(demo);
    }
    let existing: Option<Uuid> =
        sqlx::query_scalar("select id from organisations order by created_at, id limit 1")
            .fetch_optional(db)
            .await?;
    let demo = match existing {
        None => {
            let mut demo = seed(db, base_url).await?;
            demo.jobs = book_jobs(state, &demo).await?;
            demo
        }
        // The database outlived demo.json: hand out fresh tokens for the same people.
        Some(organisation_id) => reissue(db, organisation_id, base_url).await?,
    };
    write(path, &demo)?;
    Ok(demo)
}

async fn seed(db: &PgPool, base_url: &str) -> anyhow::Result<DemoFile> {
    let mut tx = db.begin().await?;
    let organisation = Organisation::create(&mut *tx, ORGANISATION).await?;
    let mut staff = Vec::new();
    for (name, role) in STAFF {
        let new = NewStaff {
            name: name.to_owned(),
            role,
        };
        let member = Staff::create(&mut *tx, organisation.id, &new).await?;
        let token = DeviceToken::issue(&mut *tx, member.id, "demo").await?;
        let password = console_password(&mut tx, member.id, role).await?;
        staff.push(DemoStaff {
            id: member.id,
            name: member.name,
            role,
            token: token.token,
            password,
        });
    }
    let mut customers = Vec::new();
    for (name, phone, address, tier) in CUSTOMERS {
        let new = NewCustomer {
            name: name.to_owned(),
            phone: Some(phone.to_owned()),
            address: address.to_owned(),
            tier,
        };
        let customer = Customer::create(&mut *tx, organisation.id, &new).await?;
        customers.push(DemoCustomer {
            id: customer.id,
            name: customer.name,
            tier,
        });
    }
    tx.commit().await?;
    Ok(DemoFile {
        base_url: base_url.to_owned(),
        organisation_id: organisation.id,
        staff,
        customers,
        jobs: Vec::new(),
    })
}

/// A fresh console password for an office member (none for technicians).
async fn console_password(
    tx: &mut sqlx::PgConnection,
    staff: Uuid,
    role: Role,
) -> anyhow::Result<Option<String>> {
    if !crate::auth::session::is_office(role) {
        return Ok(None);
    }
    let password = crate::auth::random_text(12);
    crate::auth::password::set(&mut *tx, staff, &password)
        .await
        .map_err(|e| anyhow::anyhow!("setting a demo password: {e}"))?;
    Ok(Some(password))
}

async fn reissue(db: &PgPool, organisation_id: Uuid, base_url: &str) -> anyhow::Result<DemoFile> {
    let mut tx = db.begin().await?;
    let mut staff = Vec::new();
    for member in Staff::list(&mut *tx, organisation_id).await? {
        let token = DeviceToken::issue(&mut *tx, member.id, "demo (reissued)").await?;
        let password = console_password(&mut tx, member.id, member.role).await?;
        staff.push(DemoStaff {
            id: member.id,
            name: member.name,
            role: member.role,
            token: token.token,
            password,
        });
    }
    let customers = Customer::list(&mut *tx, organisation_id, None, 1000)
        .await?
        .into_iter()
        .map(|c| DemoCustomer {
            id: c.id,
            name: c.name,
            tier: c.tier,
        })
        .collect();
    tx.commit().await?;
    Ok(DemoFile {
        base_url: base_url.to_owned(),
        organisation_id,
        staff,
        customers,
        jobs: existing_jobs(db, organisation_id).await?,
    })
}

/// Today's jobs: two for the first technician (one from a complaint), one for the second.
async fn book_jobs(state: &AppState, demo: &DemoFile) -> anyhow::Result<Vec<DemoJob>> {
    let dispatcher = demo
        .staff
        .iter()
        .find(|s| s.role == Role::Dispatcher)
        .context("demo data has no dispatcher")?;
    let caller = Caller::authenticate(state, &dispatcher.token)
        .await
        .map_err(|e| anyhow::anyhow!("signing in the demo dispatcher: {e}"))?;
    let technicians: Vec<Uuid> = demo
        .staff
        .iter()
        .filter(|s| s.role == Role::Technician)
        .map(|s| s.id)
        .collect();
    let today = Utc::now().date_naive();
    let at = |hour: u32| {
        today
            .and_hms_opt(hour, 0, 0)
            .map(|t| t.and_utc())
            .context("a time of day")
    };
    let plan = [
        (0, 0, "installation", 1, false),
        (1, 0, "repair", 6, true),
        (2, 1, "maintenance", 2, false),
    ];
    let mut jobs = Vec::new();
    for (customer, technician, kind, hour, from_complaint) in plan {
        let technician_id = technicians[technician % technicians.len()];
        let request = BookJob {
            customer_id: demo.customers[customer].id,
            kind: kind.to_owned(),
            window_start: at(hour)?,
            window_end: at(hour + 2)?,
            technician_id: Some(technician_id),
            from_complaint,
            complaint_reference: from_complaint.then(|| "TS-2026-0318".to_owned()),
        };
        let created = book_job(state, &caller, request)
            .await
            .map_err(|e| anyhow::anyhow!("booking a demo job: {e}"))?;
        jobs.push(DemoJob {
            id: created.id,
            document_url: created.document_url,
            technician_id,
        });
    }
    Ok(jobs)
}

async fn existing_jobs(db: &PgPool, organisation_id: Uuid) -> anyhow::Result<Vec<DemoJob>> {
    let rows: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "select id, technician_id from jobs where organisation_id = $1 order by window_start, id",
    )
    .bind(organisation_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, technician)| {
            Some(DemoJob {
                id,
                document_url: sync_protocol::DocumentId::from_uuid(id).to_url(),
                technician_id: technician?,
            })
        })
        .collect())
}

fn read(path: &Path) -> anyhow::Result<Option<DemoFile>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes beside the target and renames, so a reader never sees half a file.
fn write(path: &Path, demo: &DemoFile) -> anyhow::Result<()> {
    let partial = path.with_extension("json.partial");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("writing {}", partial.display()))?;
    file.write_all(&serde_json::to_vec_pretty(demo)?)?;
    file.sync_all()?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
