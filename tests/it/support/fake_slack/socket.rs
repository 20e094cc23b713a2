//! The fake's Socket Mode websocket server.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{Inner, SocketCmd};

/// Accepts Socket Mode websockets: says hello, forwards envelopes the test sends, records acks.
pub(super) async fn serve(listener: tokio::net::TcpListener, inner: Arc<Mutex<Inner>>) {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Ws;
    loop {
        let Ok((tcp, _)) = listener.accept().await else { return };
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else { continue };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        {
            let mut inner = inner.lock().unwrap();
            inner.socket.connections += 1;
            inner.socket.current = Some(tx);
        }
        let hello = json!({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}});
        if ws.send(Ws::text(hello.to_string())).await.is_err() {
            continue;
        }
        let inner = inner.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    cmd = rx.recv() => match cmd {
                        Some(SocketCmd::Send(v)) => { if ws.send(Ws::text(v.to_string())).await.is_err() { return } }
                        Some(SocketCmd::Drop) | None => return,
                    },
                    msg = ws.next() => match msg {
                        Some(Ok(Ws::Text(text))) => {
                            if let Ok(v) = serde_json::from_str::<Value>(text.as_str()) {
                                inner.lock().unwrap().socket.acks.push(v);
                            }
                        }
                        Some(Ok(Ws::Close(_))) | None | Some(Err(_)) => return,
                        Some(Ok(_)) => {}
                    },
                }
            }
        });
    }
}
