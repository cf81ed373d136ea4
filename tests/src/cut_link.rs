//! A TCP link between the service and a dependency that a test can cut, freeze and restore, the
//! way a network partition, a crashed server or a hung one (`kill -STOP`) breaks it:
//! [`CutLink::start`] forwards every connection to the target; [`CutLink::cut`] closes them all
//! and refuses new ones; [`CutLink::freeze`] keeps every connection open (new ones are accepted,
//! as the kernel of a stopped server accepts them) but carries no byte; [`CutLink::restore`]
//! forwards again on the same address — the bytes held by a freeze flow on, as after `kill -CONT`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the link does with the bytes and connections it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Forward,
    Frozen,
    Cut,
}

/// A forwarding listener on `127.0.0.1:<port>`.
pub struct CutLink {
    /// Where the service should connect instead of the target.
    pub addr: SocketAddr,
    target: SocketAddr,
    mode: watch::Sender<Mode>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl CutLink {
    /// Forwards connections to `target` until cut or frozen.
    pub async fn start(target: SocketAddr) -> CutLink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a link");
        let addr = listener.local_addr().expect("link address");
        let (mode, _) = watch::channel(Mode::Forward);
        let link = CutLink {
            addr,
            target,
            mode,
            tasks: Arc::default(),
        };
        link.serve(listener);
        link
    }

    fn serve(&self, listener: TcpListener) {
        let accepted = self.tasks.clone();
        let target = self.target;
        let mode = self.mode.clone();
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let mode = mode.subscribe();
                let forward = tokio::spawn(async move {
                    if let Ok(outbound) = TcpStream::connect(target).await {
                        forward(inbound, outbound, mode).await;
                    }
                });
                accepted.lock().expect("link tasks").push(forward);
            }
        });
        self.tasks.lock().expect("link tasks").push(accept);
    }

    /// Closes every forwarded connection and the listener: the target is gone.
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
        for task in self.tasks.lock().expect("link tasks").drain(..) {
            task.abort();
        }
    }

    /// Stops carrying bytes either way, on every connection, old and new, until
    /// [`CutLink::restore`]: the target hangs.
    pub fn freeze(&self) {
        self.mode.send_replace(Mode::Frozen);
    }

    /// Forwards again: after a freeze the held bytes flow on; after a cut the link listens again
    /// on the same address.
    pub async fn restore(&self) {
        if self.mode.send_replace(Mode::Forward) == Mode::Cut {
            let listener = TcpListener::bind(self.addr)
                .await
                .expect("bind the link's address again");
            self.serve(listener);
        }
    }
}

/// Carries bytes both ways while the mode is [`Mode::Forward`], holding them while frozen.
async fn forward(inbound: TcpStream, outbound: TcpStream, mode: watch::Receiver<Mode>) {
    let (in_read, in_write) = inbound.into_split();
    let (out_read, out_write) = outbound.into_split();
    tokio::join!(
        pump(in_read, out_write, mode.clone()),
        pump(out_read, in_write, mode)
    );
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        // Bytes read while frozen wait here, as in the socket buffers of a stopped server.
        match mode.wait_for(|m| *m != Mode::Frozen).await {
            Ok(m) if *m == Mode::Forward => {}
            _ => break,
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Drop for CutLink {
    fn drop(&mut self) {
        self.cut();
    }
}
