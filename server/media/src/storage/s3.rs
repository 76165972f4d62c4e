//! S3-compatible object storage backend (AWS S3, MinIO, Ceph RGW, OSS/COS S3 endpoints) via
//! `object_store`.
//!
//! Write-once originals rely on conditional writes (`If-None-Match: *`), which S3 and the
//! common S3-compatible servers support:
//! - up to `single_put_max` bytes: one conditional `PUT` (the only place a chunk is buffered,
//!   bounded by that setting);
//! - larger: a streamed multipart upload to a private staging key (`.staging/<uuid>`, which
//!   no [`ObjectKey`] can name), then a copy that completes only if the target is absent, then
//!   the staging object is deleted. A lifecycle rule on `.staging/` cleans up after crashes.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, S3CopyIfNotExists};
use object_store::buffered::BufWriter;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::{resolve_existing, ByteStream, ObjectInfo, ObjectKey, PutOutcome, Storage, COPY_CHUNK};
use crate::error::MediaError;
use crate::hash::Hasher;

/// Default size up to which a put is a single conditional request.
const DEFAULT_SINGLE_PUT_MAX: usize = 8 * 1024 * 1024;

/// Connection settings for an S3-compatible bucket.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Config {
    /// Endpoint URL, e.g. `https://oss-cn-hangzhou.aliyuncs.com`; `None` for AWS itself.
    pub endpoint: Option<String>,
    /// Bucket name.
    pub bucket: String,
    /// Region, e.g. `cn-north-1` (S3-compatible servers usually accept any).
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Allow plain `http://` endpoints (tests, servers on a private network).
    #[serde(default)]
    pub allow_http: bool,
    /// Use `bucket.host` addressing instead of `host/bucket`.
    #[serde(default)]
    pub virtual_hosted_style: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches logs.
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("allow_http", &self.allow_http)
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .finish_non_exhaustive()
    }
}

/// Media kept in an S3-compatible bucket (multi-instance deployments).
#[derive(Debug, Clone)]
pub struct S3Storage {
    store: Arc<AmazonS3>,
    single_put_max: usize,
}

impl S3Storage {
    /// Builds a client; no request is made until first use.
    pub fn new(config: &S3Config) -> Result<Self, MediaError> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_allow_http(config.allow_http)
            .with_virtual_hosted_style_request(config.virtual_hosted_style)
            // Conditional completion of a one-part copy: the atomic "create if absent" for
            // objects too large for a single conditional PUT.
            .with_copy_if_not_exists(S3CopyIfNotExists::Multipart);
        if let Some(endpoint) = &config.endpoint {
            b = b.with_endpoint(endpoint);
        }
        let store = b
            .build()
            .map_err(|e| MediaError::InvalidConfig(e.to_string()))?;
        Ok(Self {
            store: Arc::new(store),
            single_put_max: DEFAULT_SINGLE_PUT_MAX,
        })
    }

    /// Changes the single-request threshold (at least 1 byte); tests lower it to exercise the
    /// multipart path with small files.
    pub fn with_single_put_max(mut self, bytes: usize) -> Self {
        self.single_put_max = bytes.max(1);
        self
    }

    fn path(key: &ObjectKey) -> StorePath {
        // ObjectKey segments are already valid object_store path parts.
        StorePath::from(key.as_str())
    }

    async fn put_small(
        &self,
        key: &ObjectKey,
        data: Vec<u8>,
        hasher: Hasher,
    ) -> Result<PutOutcome, MediaError> {
        let (sha256, size) = hasher.finish();
        let mode = if key.is_immutable() {
            PutMode::Create
        } else {
            PutMode::Overwrite
        };
        let opts = PutOptions {
            mode,
            ..PutOptions::default()
        };
        match self
            .store
            .put_opts(&Self::path(key), PutPayload::from(Bytes::from(data)), opts)
            .await
        {
            Ok(_) => Ok(PutOutcome {
                size,
                sha256,
                already_present: false,
            }),
            Err(object_store::Error::AlreadyExists { .. }) => {
                resolve_existing(self, key, sha256, size).await
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn put_large(
        &self,
        key: &ObjectKey,
        first: Vec<u8>,
        mut hasher: Hasher,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<PutOutcome, MediaError> {
        let staging = StorePath::from(format!(".staging/{}", uuid::Uuid::new_v4()));
        let target = if key.is_immutable() {
            staging.clone()
        } else {
            Self::path(key)
        };
        let store: Arc<dyn ObjectStore> = self.store.clone();
        let mut writer = BufWriter::new(store, target.clone());
        let written = async {
            writer.write_all(&first).await?;
            let mut buf = vec![0u8; COPY_CHUNK];
            loop {
                let n = reader.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                writer.write_all(&buf[..n]).await?;
            }
            writer.shutdown().await
        }
        .await;
        if let Err(e) = written {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(error = %abort, "could not abort multipart upload");
            }
            return Err(MediaError::Storage(e.to_string()));
        }
        let (sha256, size) = hasher.finish();
        if !key.is_immutable() {
            return Ok(PutOutcome {
                size,
                sha256,
                already_present: false,
            });
        }
        let copied = self
            .store
            .copy_if_not_exists(&staging, &Self::path(key))
            .await;
        if let Err(e) = self.store.delete(&staging).await {
            tracing::warn!(path = %staging, error = %e, "could not delete staging object");
        }
        match copied {
            Ok(()) => Ok(PutOutcome {
                size,
                sha256,
                already_present: false,
            }),
            Err(object_store::Error::AlreadyExists { .. }) => {
                resolve_existing(self, key, sha256, size).await
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl Storage for S3Storage {
    async fn put_stream(
        &self,
        key: &ObjectKey,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<PutOutcome, MediaError> {
        // Read at most single_put_max + 1 bytes to learn which path applies.
        let mut first = Vec::new();
        let limit = self.single_put_max as u64 + 1;
        (&mut *reader).take(limit).read_to_end(&mut first).await?;
        let mut hasher = Hasher::default();
        hasher.update(&first);
        if first.len() <= self.single_put_max {
            self.put_small(key, first, hasher).await
        } else {
            self.put_large(key, first, hasher, reader).await
        }
    }

    async fn get_stream(&self, key: &ObjectKey) -> Result<ByteStream, MediaError> {
        let result = self.store.get(&Self::path(key)).await?;
        Ok(Box::pin(result.into_stream().map_err(MediaError::from)))
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectInfo, MediaError> {
        let meta = self.store.head(&Self::path(key)).await?;
        Ok(ObjectInfo { size: meta.size })
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), MediaError> {
        match self.store.delete(&Self::path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
