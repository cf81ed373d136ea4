//! A TCP link between the service and a dependency that a test can cut, the way a network
//! partition or a crashed database server cuts it: [`CutLink::start`] forwards every connection
//! to the target; [`CutLink::cut`] closes them all and refuses new ones.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A forwarding listener on `127.0.0.1:<port>`.
pub struct CutLink {
    /// Where the service should connect instead of the target.
    pub addr: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl CutLink {
    /// Forwards connections to `target` until cut.
    pub async fn start(target: SocketAddr) -> CutLink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a link");
        let addr = listener.local_addr().expect("link address");
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accepted = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let forward = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                accepted.lock().expect("link tasks").push(forward);
            }
        });
        tasks.lock().expect("link tasks").push(accept);
        CutLink { addr, tasks }
    }

    /// Closes every forwarded connection and the listener: the target is gone.
    pub fn cut(&self) {
        for task in self.tasks.lock().expect("link tasks").drain(..) {
            task.abort();
        }
    }
}

impl Drop for CutLink {
    fn drop(&mut self) {
        self.cut();
    }
}
