//! Demo data for the embedded default, seeded once, and `demo.json`, which hands the tokens to
//! whoever runs it. The tokens exist in clear only in that file (mode 0600).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::DeviceToken;
use crate::directory::{Customer, NewCustomer, NewStaff, Organisation, Role, Staff, Tier};

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
pub async fn ensure(db: &PgPool, path: &Path, base_url: &str) -> anyhow::Result<DemoFile> {
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
        None => seed(db, base_url).await?,
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
        staff.push(DemoStaff {
            id: member.id,
            name: member.name,
            role,
            token: token.token,
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

async fn reissue(db: &PgPool, organisation_id: Uuid, base_url: &str) -> anyhow::Result<DemoFile> {
    let mut tx = db.begin().await?;
    let mut staff = Vec::new();
    for member in Staff::list(&mut *tx, organisation_id).await? {
        let token = DeviceToken::issue(&mut *tx, member.id, "demo (reissued)").await?;
        staff.push(DemoStaff {
            id: member.id,
            name: member.name,
            role: member.role,
            token: token.token,
        });
    }
    let customers = Customer::list(&mut *tx, organisation_id)
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
        jobs: Vec::new(),
    })
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
