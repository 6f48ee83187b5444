//! The periodic analysis the service rules ask for (收集整理、定期分析; 定期总结服务经验得失): for
//! one month, the revisits done and how many on time, the customers reached, the problems not
//! solved (with their jobs), the satisfaction given, the suggestions collected, the review
//! flags of the month's jobs by kind, and each technician's month; with weekly figures for the
//! charts. Read by the office roles of the organisation.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::queue::QUEUE_READERS;
use crate::auth::Caller;
use crate::error::ApiError;

/// A month on the office's clock.
#[derive(Debug, Clone, Copy)]
pub struct Month {
    pub first_day: NaiveDate,
    pub offset: FixedOffset,
}

impl Month {
    /// `2026-11` at `offset`.
    pub fn parse(text: &str, offset: FixedOffset) -> Result<Self, ApiError> {
        let first_day = NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
            .ok()
            .filter(|d| (2000..=2100).contains(&d.year()))
            .ok_or_else(|| ApiError::BadRequest("the month is YYYY-MM".into()))?;
        Ok(Self { first_day, offset })
    }

    /// The month `at` falls in.
    pub fn of(at: DateTime<Utc>, offset: FixedOffset) -> Self {
        let local = at.with_timezone(&offset).date_naive();
        Self {
            first_day: local.with_day(1).unwrap_or(local),
            offset,
        }
    }

    pub fn label(&self) -> String {
        self.first_day.format("%Y-%m").to_string()
    }

    pub fn next(&self) -> Self {
        Self {
            first_day: self
                .first_day
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(self.first_day),
            offset: self.offset,
        }
    }

    pub fn previous(&self) -> Self {
        Self {
            first_day: self
                .first_day
                .checked_sub_months(chrono::Months::new(1))
                .unwrap_or(self.first_day),
            offset: self.offset,
        }
    }

    fn start(&self) -> DateTime<Utc> {
        self.at(self.first_day)
    }

    fn end(&self) -> DateTime<Utc> {
        self.next().start()
    }

    fn at(&self, day: NaiveDate) -> DateTime<Utc> {
        self.offset
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
            .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
    }
}

/// One revisit outcome of the month.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutcomeLine {
    pub task_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    /// When the task's customer was first reached, whenever that was (`None` while no call
    /// reached them): a revisit is done (and on time or not) once, when the customer is reached.
    pub first_at: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    pub reached: bool,
    pub problem_solved: Option<bool>,
    pub satisfaction: Option<i32>,
    pub suggestions: Option<String>,
    pub job_id: Uuid,
    pub job_number: Option<String>,
    pub customer_id: Option<Uuid>,
    pub customer: Option<String>,
    pub technician: Option<String>,
}

/// One job of the month, for the flags and the technicians' figures.
#[derive(Debug, Clone, sqlx::FromRow)]
struct JobLine {
    technician: Option<String>,
    complete: bool,
    review_flags: serde_json::Value,
}

/// A week's figures (weeks start on Monday).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Week {
    pub monday: Option<NaiveDate>,
    pub revisits: usize,
    pub satisfaction_sum: i64,
    pub rated: usize,
}

impl Week {
    pub fn average(&self) -> Option<f64> {
        (self.rated > 0).then(|| self.satisfaction_sum as f64 / self.rated as f64)
    }
}

/// A technician's month.
#[derive(Debug, Clone, Default)]
pub struct TechnicianMonth {
    pub jobs: usize,
    pub complete: usize,
    pub flags: usize,
    pub satisfaction_sum: i64,
    pub rated: usize,
}

#[derive(Debug, Clone)]
pub struct Monthly {
    pub month: Month,
    /// Tasks whose customer was first reached this month.
    pub revisits_done: usize,
    /// Of those, the ones whose customer was first reached by the due time.
    pub on_time: usize,
    pub customers_reached: usize,
    /// Outcomes that say the problem was not solved.
    pub not_solved: Vec<OutcomeLine>,
    /// How many outcomes gave 1, 2, 3, 4 and 5.
    pub satisfaction: [usize; 5],
    pub suggestions: Vec<OutcomeLine>,
    pub flags: BTreeMap<String, usize>,
    pub technicians: BTreeMap<String, TechnicianMonth>,
    pub weeks: Vec<Week>,
    /// Open revisits overdue now.
    pub overdue_now: i64,
}

pub async fn monthly(
    db: &sqlx::PgPool,
    caller: &Caller,
    month: Month,
) -> Result<Monthly, ApiError> {
    caller.require(&QUEUE_READERS)?;
    let (start, end) = (month.start(), month.end());
    let outcomes: Vec<OutcomeLine> = sqlx::query_as(
        r#"select o.task_id, o.recorded_at,
                  (select min(f.recorded_at) from revisit_outcomes f
                   where f.task_id = o.task_id and f.reached) as first_at,
                  t.due_at, o.reached, o.problem_solved, o.satisfaction,
                  o.suggestions, t.job_id, j.number as job_number, t.customer_id,
                  c.name as customer, tech.name as technician
           from revisit_outcomes o
           join revisit_tasks t on t.id = o.task_id
           join jobs j on j.id = t.job_id
           left join customers c on c.id = t.customer_id
           left join staff tech on tech.id = j.technician_id
           where o.organisation_id = $1 and o.recorded_at >= $2 and o.recorded_at < $3
           order by o.recorded_at, o.id"#,
    )
    .bind(caller.organisation_id)
    .bind(start)
    .bind(end)
    .fetch_all(db)
    .await?;
    let jobs: Vec<JobLine> = sqlx::query_as(
        r#"select tech.name as technician, j.complete, j.review_flags
           from jobs j left join staff tech on tech.id = j.technician_id
           where j.organisation_id = $1 and j.window_start >= $2 and j.window_start < $3
             and j.status <> 'cancelled'"#,
    )
    .bind(caller.organisation_id)
    .bind(start)
    .bind(end)
    .fetch_all(db)
    .await?;
    let overdue_now: i64 = sqlx::query_scalar(
        r#"select count(*) from revisit_tasks t
           where t.organisation_id = $1 and t.due_at < now()
             and not exists (select 1 from revisit_outcomes o
                             where o.task_id = t.id and o.reached)"#,
    )
    .bind(caller.organisation_id)
    .fetch_one(db)
    .await?;
    Ok(summarise(month, &outcomes, &jobs, overdue_now))
}

fn summarise(
    month: Month,
    outcomes: &[OutcomeLine],
    jobs: &[JobLine],
    overdue_now: i64,
) -> Monthly {
    // Revisits done this month: tasks whose customer was first reached in it (calls that did
    // not reach them do not count; a later call does not count the task again).
    let (start, end) = (month.start(), month.end());
    let mut first_of_task: BTreeMap<Uuid, &OutcomeLine> = BTreeMap::new();
    for o in outcomes
        .iter()
        .filter(|o| o.first_at.is_some_and(|at| at >= start && at < end))
    {
        first_of_task.entry(o.task_id).or_insert(o);
    }
    let on_time = first_of_task
        .values()
        .filter(|o| o.first_at.is_some_and(|at| at <= o.due_at))
        .count();
    let reached: BTreeSet<Uuid> = outcomes
        .iter()
        .filter(|o| o.reached)
        .filter_map(|o| o.customer_id)
        .collect();
    let mut satisfaction = [0; 5];
    for score in outcomes.iter().filter_map(|o| o.satisfaction) {
        if let Some(slot) = usize::try_from(score - 1)
            .ok()
            .and_then(|i| satisfaction.get_mut(i))
        {
            *slot += 1;
        }
    }
    let mut flags: BTreeMap<String, usize> = BTreeMap::new();
    let mut technicians: BTreeMap<String, TechnicianMonth> = BTreeMap::new();
    for job in jobs {
        let kinds: Vec<String> = job
            .review_flags
            .as_array()
            .map(|f| {
                f.iter()
                    .filter_map(|x| x["flag"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let name = job.technician.clone().unwrap_or_else(|| "—".to_owned());
        let line = technicians.entry(name).or_default();
        line.jobs += 1;
        line.complete += usize::from(job.complete);
        line.flags += kinds.len();
        for kind in kinds {
            *flags.entry(kind).or_default() += 1;
        }
    }
    for o in outcomes {
        if let (Some(name), Some(score)) = (&o.technician, o.satisfaction) {
            let line = technicians.entry(name.clone()).or_default();
            line.satisfaction_sum += i64::from(score);
            line.rated += 1;
        }
    }
    // Weeks (Monday first) that overlap the month.
    let mut weeks: Vec<Week> = Vec::new();
    let mut monday = month.first_day
        - Duration::days(i64::from(month.first_day.weekday().num_days_from_monday()));
    let next_month = month.next().first_day;
    while monday < next_month {
        weeks.push(Week {
            monday: Some(monday),
            ..Week::default()
        });
        monday += Duration::days(7);
    }
    for o in first_of_task.values() {
        let Some(first) = o.first_at else { continue };
        let day = first.with_timezone(&month.offset).date_naive();
        if let Some(week) = weeks
            .iter_mut()
            .rev()
            .find(|w| w.monday.is_some_and(|m| m <= day))
        {
            week.revisits += 1;
        }
    }
    for o in outcomes {
        let day = o.recorded_at.with_timezone(&month.offset).date_naive();
        if let (Some(score), Some(week)) = (
            o.satisfaction,
            weeks
                .iter_mut()
                .rev()
                .find(|w| w.monday.is_some_and(|m| m <= day)),
        ) {
            week.satisfaction_sum += i64::from(score);
            week.rated += 1;
        }
    }
    Monthly {
        month,
        revisits_done: first_of_task.len(),
        on_time,
        customers_reached: reached.len(),
        not_solved: outcomes
            .iter()
            .filter(|o| o.problem_solved == Some(false))
            .cloned()
            .collect(),
        satisfaction,
        suggestions: outcomes
            .iter()
            .filter(|o| {
                o.suggestions
                    .as_deref()
                    .is_some_and(|s| !s.trim().is_empty())
            })
            .cloned()
            .collect(),
        flags,
        technicians,
        weeks,
        overdue_now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(task: Uuid, day: u32, due_day: u32, satisfaction: Option<i32>) -> OutcomeLine {
        let at = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 4, 0, 0).unwrap();
        OutcomeLine {
            task_id: task,
            recorded_at: at(day),
            first_at: Some(at(day)),
            due_at: at(due_day),
            reached: true,
            problem_solved: Some(satisfaction != Some(1)),
            satisfaction,
            suggestions: None,
            job_id: Uuid::new_v4(),
            job_number: None,
            customer_id: Some(Uuid::new_v4()),
            customer: None,
            technician: Some("张伟".into()),
        }
    }

    #[test]
    fn counts_tasks_once_on_time_by_their_first_call_and_weeks_from_monday() {
        let month = Month::parse("2026-11", FixedOffset::east_opt(8 * 3600).unwrap()).unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        // Task a: called on the 2nd (due the 3rd), again on the 10th; task b late on the 20th.
        let mut again = outcome(a, 10, 3, Some(5));
        again.first_at = Some(outcomes_first(2));
        let mut october = outcome(Uuid::new_v4(), 4, 3, Some(4));
        // First called on 30 October: done then, not again in November.
        october.first_at = Some(Utc.with_ymd_and_hms(2026, 10, 30, 4, 0, 0).unwrap());
        let outcomes = [
            outcome(a, 2, 3, None),
            again,
            outcome(b, 20, 18, Some(1)),
            october,
        ];
        let summary = summarise(month, &outcomes, &[], 0);
        assert_eq!(summary.revisits_done, 2);
        assert_eq!(summary.on_time, 1);
        assert_eq!(summary.satisfaction, [1, 0, 0, 1, 1]);
        assert_eq!(summary.not_solved.len(), 1);
        // November 2026 starts on a Sunday: its first week is Monday 26 October's.
        assert_eq!(
            summary.weeks[0].monday,
            NaiveDate::from_ymd_opt(2026, 10, 26)
        );
        assert_eq!(summary.weeks.len(), 6);
        assert_eq!(summary.weeks[0].revisits, 0);
        assert_eq!(summary.weeks[1].revisits, 1);
        assert_eq!(summary.weeks[3].revisits, 1);
        assert_eq!(summary.weeks[2].average(), Some(5.0));
        assert_eq!(summary.technicians["张伟"].rated, 3);
    }

    #[test]
    fn a_call_that_does_not_reach_the_customer_does_not_do_the_revisit() {
        let month = Month::parse("2026-11", FixedOffset::east_opt(8 * 3600).unwrap()).unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        // Task a: nobody answered on the 2nd (due the 3rd); reached on the 5th, late.
        let mut missed = outcome(a, 2, 3, None);
        missed.reached = false;
        missed.problem_solved = None;
        missed.first_at = Some(outcomes_first(5));
        let mut reached = outcome(a, 5, 3, Some(4));
        reached.first_at = Some(outcomes_first(5));
        // Task b: two calls, neither reached the customer: not done at all.
        let mut tried = outcome(b, 8, 9, None);
        tried.reached = false;
        tried.problem_solved = None;
        tried.first_at = None;
        let mut again = tried.clone();
        again.recorded_at = outcomes_first(9);
        let summary = summarise(month, &[missed, reached, tried, again], &[], 0);
        assert_eq!(summary.revisits_done, 1);
        assert_eq!(
            summary.on_time, 0,
            "the customer was reached after the due time"
        );
        assert_eq!(
            summary.weeks[1].revisits, 1,
            "counted in the week of the 5th"
        );
    }

    fn outcomes_first(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 4, 0, 0).unwrap()
    }
}
