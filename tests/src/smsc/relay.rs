//! A TCP relay in front of the test SMS centre, so a test can cut the connection while
//! submits are in flight, as a network does: every open connection is dropped at once,
//! both ways, and new ones are accepted again afterwards.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A relay on a loopback port forwarding to `upstream`.
#[derive(Debug)]
pub struct Relay {
    port: u16,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Relay {
    /// Listens on a free loopback port and forwards each connection to `upstream`.
    pub async fn start(upstream: u16) -> anyhow::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the relay")?;
        let port = listener.local_addr()?.port();
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let held = links.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let link = tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                held.lock().unwrap_or_else(|p| p.into_inner()).push(link);
            }
        });
        Ok(Relay { port, links, accept })
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drops every open connection (both sockets close), as a cut cable would.
    pub fn cut(&self) {
        for link in self.links.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            link.abort();
        }
    }

    /// How many connections it has forwarded and not cut.
    pub fn open(&self) -> usize {
        self.links.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|l| !l.is_finished()).count()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
