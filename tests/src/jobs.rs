//! Helpers for tests about jobs: a small organisation with a dispatcher, two technicians and a
//! customer, and booking through the real REST API.

use fieldsync_server::directory::{Role, Tier};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::TestApp;
use crate::fixtures::SignedIn;

/// An organisation ready to book jobs.
#[derive(Debug, Clone)]
pub struct Crew {
    pub organisation: Uuid,
    pub dispatcher: SignedIn,
    pub technician: SignedIn,
    pub other_technician: SignedIn,
    pub revisit: SignedIn,
    pub customer: Uuid,
}

impl TestApp {
    pub async fn crew(&self, name: &str) -> Crew {
        let organisation = self.organisation(name).await.id;
        Crew {
            organisation,
            dispatcher: self.staff(organisation, "李娜", Role::Dispatcher).await,
            technician: self.staff(organisation, "张伟", Role::Technician).await,
            other_technician: self.staff(organisation, "陈强", Role::Technician).await,
            revisit: self.staff(organisation, "刘芳", Role::Revisit).await,
            customer: self
                .customer(
                    organisation,
                    "王秀英",
                    "上海市浦东新区张杨路1588号12楼1203室",
                    Tier::Key,
                )
                .await
                .id,
        }
    }

    /// An admin of the crew's organisation.
    pub async fn admin(&self, crew: &Crew) -> SignedIn {
        self.staff(crew.organisation, "赵敏", Role::Admin).await
    }

    /// Books a job for the crew's technician with a window around now, confirmed by the
    /// customer by phone, as a tablet will find it in the morning; returns its id.
    pub async fn book_confirmed(&self, crew: &Crew) -> String {
        let now = chrono::Utc::now();
        let booked: Value = self
            .post("/api/v1/jobs")
            .bearer_auth(&crew.dispatcher.token)
            .json(&json!({
                "customer_id": crew.customer,
                "kind": "repair",
                "window_start": now - chrono::Duration::minutes(30),
                "window_end": now + chrono::Duration::minutes(90),
                "technician_id": crew.technician.staff.id,
            }))
            .send()
            .await
            .expect("POST /api/v1/jobs")
            .json()
            .await
            .expect("JSON body");
        let id = booked["id"].as_str().expect("job id").to_owned();
        let confirmed = self
            .post(&format!("/api/v1/jobs/{id}/confirmation"))
            .bearer_auth(&crew.dispatcher.token)
            .json(&json!({"confirmed_by": "王秀英", "channel": "phone", "confirmed_at": now}))
            .send()
            .await
            .expect("POST confirmation");
        assert_eq!(confirmed.status(), 200, "the confirmation is recorded");
        id
    }

    /// Books a job for today through `POST /api/v1/jobs`; returns the response body.
    pub async fn book(&self, crew: &Crew, technician: Option<Uuid>) -> Value {
        let today = chrono::Utc::now().date_naive();
        let response = self
            .post("/api/v1/jobs")
            .bearer_auth(&crew.dispatcher.token)
            .json(&json!({
                "customer_id": crew.customer,
                "kind": "installation",
                "window_start": format!("{today}T01:00:00Z"),
                "window_end": format!("{today}T03:00:00Z"),
                "technician_id": technician,
            }))
            .send()
            .await
            .expect("POST /api/v1/jobs");
        assert_eq!(response.status(), 201, "booking answers 201");
        response.json().await.expect("JSON body")
    }

    /// Moves job `id` to a two-hour window from `start`, as the crew's dispatcher, through
    /// `POST /api/v1/jobs/{id}/reschedule`; panics unless it answers 200.
    pub async fn reschedule(&self, crew: &Crew, id: &str, start: chrono::DateTime<chrono::Utc>) {
        let response = self
            .post(&format!("/api/v1/jobs/{id}/reschedule"))
            .bearer_auth(&crew.dispatcher.token)
            .json(&json!({"window_start": start, "window_end": start + chrono::Duration::hours(2)}))
            .send()
            .await
            .expect("POST reschedule");
        assert_eq!(response.status(), 200, "rescheduling answers 200");
    }

    /// `GET /api/v1/jobs/{id}` as `token`: status and body.
    pub async fn job(&self, token: &str, id: &str) -> (u16, Value) {
        let response = self
            .get(&format!("/api/v1/jobs/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET job");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}
