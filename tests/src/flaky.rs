//! A TCP proxy in front of a service that can be switched off and on: an outage injected between
//! the server and its object store (or anything else it talks to), with neither side changed.
//! While down, connections open through it are cut and new ones are closed as they arrive.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct FlakyProxy {
    pub address: SocketAddr,
    down: watch::Sender<bool>,
    target: watch::Sender<SocketAddr>,
    task: JoinHandle<()>,
}

impl FlakyProxy {
    /// Forwards connections made to [`FlakyProxy::address`] to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let (down, watching) = watch::channel(false);
        let (target, targets) = watch::channel(target);
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let watching = watching.clone();
                let target = *targets.borrow();
                tokio::spawn(forward(inbound, target, watching));
            }
        });
        Self {
            address,
            down,
            target,
            task,
        }
    }

    /// The proxy's URL, for an `http://` endpoint setting.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Sends new connections to `target` from now on (a service started again elsewhere).
    pub fn retarget(&self, target: SocketAddr) {
        self.target.send_replace(target);
    }

    /// Starts (`true`) or ends (`false`) the outage.
    pub fn set_down(&self, down: bool) {
        self.down.send_replace(down);
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(mut inbound: TcpStream, target: SocketAddr, mut down: watch::Receiver<bool>) {
    if *down.borrow() {
        return;
    }
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
        _ = down.wait_for(|down| *down) => {}
    }
}
