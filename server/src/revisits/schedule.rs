//! Creating the revisit tasks of a completed job, in the completion's transaction, due according
//! to the organisation's policy and the customer's tier.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::directory::Tier;

#[derive(sqlx::FromRow)]
struct Context {
    organisation_id: Uuid,
    customer_id: Option<Uuid>,
    tier: Option<String>,
    complaint_due_hours: i32,
    regular_due_hours: i32,
    key_customer_extra_days: i32,
    scheduled_min_stars: i32,
}

pub async fn schedule_revisits(
    tx: &mut PgConnection,
    job: Uuid,
    from_complaint: bool,
) -> Result<(), sqlx::Error> {
    let context: Context = sqlx::query_as(
        r#"select j.organisation_id, j.customer_id, c.tier,
                  coalesce(p.complaint_due_hours, 24) as complaint_due_hours,
                  coalesce(p.regular_due_hours, 72) as regular_due_hours,
                  coalesce(p.key_customer_extra_days, 30) as key_customer_extra_days,
                  coalesce(p.scheduled_min_stars, 5) as scheduled_min_stars
           from jobs j
           left join customers c on c.id = j.customer_id
           left join revisit_policies p on p.organisation_id = j.organisation_id
           where j.id = $1"#,
    )
    .bind(job)
    .fetch_one(&mut *tx)
    .await?;
    let (reason, hours) = if from_complaint {
        ("complaint", context.complaint_due_hours)
    } else {
        ("completed_job", context.regular_due_hours)
    };
    insert(tx, &context, job, reason, i64::from(hours) * 3600).await?;
    if context.scheduled_revisits() {
        let seconds = i64::from(context.key_customer_extra_days) * 86_400;
        insert(tx, &context, job, "key_customer_scheduled", seconds).await?;
    }
    Ok(())
}

impl Context {
    /// Key customers, and customers with at least the policy's stars, get a scheduled revisit
    /// besides the one after the job (对大客户建立定时回访制度).
    fn scheduled_revisits(&self) -> bool {
        let tier = self.tier.clone().and_then(|t| Tier::try_from(t).ok());
        match tier {
            Some(Tier::Key) => true,
            Some(tier) => tier
                .stars()
                .is_some_and(|stars| i32::from(stars) >= self.scheduled_min_stars),
            None => false,
        }
    }
}

async fn insert(
    tx: &mut PgConnection,
    context: &Context,
    job: Uuid,
    reason: &str,
    due_in_seconds: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"insert into revisit_tasks (id, organisation_id, job_id, customer_id, reason, due_at)
           values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
           on conflict (job_id, reason) do nothing"#,
    )
    .bind(Uuid::new_v4())
    .bind(context.organisation_id)
    .bind(job)
    .bind(context.customer_id)
    .bind(reason)
    .bind(due_in_seconds as f64)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
