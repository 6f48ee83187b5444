//! Fan-out: each outbox event not yet fanned out becomes one delivery per enabled endpoint of
//! its organisation subscribed to its type, in the transaction that marks it fanned out.

use sqlx::PgPool;

/// Outbox rows handled per transaction.
const BATCH: i64 = 100;

/// Fans out every pending event; returns how many events were handled.
pub async fn fan_out(db: &PgPool) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let handled = fan_out_batch(db).await?;
        total += handled;
        if handled < BATCH as u64 {
            return Ok(total);
        }
    }
}

async fn fan_out_batch(db: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    // SKIP LOCKED: another instance fanning out at the same time takes other rows.
    let claimed: Vec<i64> = sqlx::query_scalar(
        r#"select id from outbox where fanned_out_at is null
           order by id limit $1 for update skip locked"#,
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    sqlx::query(
        r#"insert into webhook_deliveries (endpoint_id, outbox_id)
           select e.id, o.id
           from outbox o
           join webhook_endpoints e
             on e.organisation_id = o.organisation_id and e.enabled and o.event_type = any (e.events)
           where o.id = any ($1)
           order by o.id
           on conflict (endpoint_id, outbox_id) do nothing"#,
    )
    .bind(&claimed)
    .execute(&mut *tx)
    .await?;
    sqlx::query("update outbox set fanned_out_at = now() where id = any ($1)")
        .bind(&claimed)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(claimed.len() as u64)
}
