//! Helpers that create what tests need through the server's own code, not through SQL of ours.

use fieldsync_server::auth::DeviceToken;
use fieldsync_server::directory::{
    Customer, NewCustomer, NewStaff, Organisation, Role, Staff, Tier,
};
use uuid::Uuid;

use crate::TestApp;

/// A staff member with a device token, ready to call the API.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub staff: Staff,
    pub token_id: Uuid,
    pub token: String,
}

impl TestApp {
    pub async fn organisation(&self, name: &str) -> Organisation {
        Organisation::create(&self.database.pool, name)
            .await
            .expect("creating an organisation")
    }

    /// A staff member of `organisation` with one device token.
    pub async fn staff(&self, organisation: Uuid, name: &str, role: Role) -> SignedIn {
        let new = NewStaff {
            name: name.to_owned(),
            role,
        };
        let staff = Staff::create(&self.database.pool, organisation, &new)
            .await
            .expect("creating a staff member");
        let issued = DeviceToken::issue(&self.database.pool, staff.id, "test tablet")
            .await
            .expect("issuing a token");
        SignedIn {
            staff,
            token_id: issued.id,
            token: issued.token,
        }
    }

    pub async fn customer(
        &self,
        organisation: Uuid,
        name: &str,
        address: &str,
        tier: Tier,
    ) -> Customer {
        let new = NewCustomer {
            name: name.to_owned(),
            phone: Some("13800000000".to_owned()),
            address: address.to_owned(),
            tier,
        };
        Customer::create(&self.database.pool, organisation, &new)
            .await
            .expect("creating a customer")
    }
}
