//! Windows' SSPI: the `Negotiate` or `NTLM` package with the credentials of the logon the probe
//! runs as (no explicit credentials to `AcquireCredentialsHandleW`), which is what .NET's
//! `useDefaultCredentials` gives the sync service. Run the probe as the service's account to
//! test the service's identity (README: "Corporate proxies").

use super::logon::{self, Cause, Context, Failure, Package, Step, MAX_TOKEN};
use std::ffi::c_void;
use std::ptr;
use windows_sys::core::HRESULT;
use windows_sys::Win32::Foundation::{
    SEC_E_LOGON_DENIED, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_NO_CREDENTIALS, SEC_E_OK,
    SEC_E_SECPKG_NOT_FOUND, SEC_E_TARGET_UNKNOWN, SEC_E_TIME_SKEW, SEC_E_WRONG_PRINCIPAL,
    SEC_I_COMPLETE_AND_CONTINUE, SEC_I_COMPLETE_NEEDED, SEC_I_CONTINUE_NEEDED,
};
use windows_sys::Win32::Security::Authentication::Identity::{
    AcquireCredentialsHandleW, DeleteSecurityContext, FreeContextBuffer, FreeCredentialsHandle,
    InitializeSecurityContextW, QueryCredentialsAttributesW, SecBuffer, SecBufferDesc,
    SecPkgCredentials_NamesW, ISC_REQ_ALLOCATE_MEMORY, ISC_REQ_CONNECTION, SECBUFFER_TOKEN,
    SECBUFFER_VERSION, SECPKG_CRED_ATTR_NAMES, SECPKG_CRED_OUTBOUND, SECURITY_NATIVE_DREP,
};
use windows_sys::Win32::Security::Credentials::SecHandle;

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The cause of an SSPI status, in the user's words.
fn failure(call: &str, status: HRESULT) -> Failure {
    let cause = match status {
        SEC_E_NO_CREDENTIALS | SEC_E_LOGON_DENIED => Cause::NoCredentials,
        SEC_E_TARGET_UNKNOWN | SEC_E_WRONG_PRINCIPAL => Cause::NoSpn,
        SEC_E_TIME_SKEW => Cause::ClockSkew,
        SEC_E_NO_AUTHENTICATING_AUTHORITY => Cause::KdcUnreachable,
        SEC_E_SECPKG_NOT_FOUND => Cause::Unavailable,
        _ => Cause::Other,
    };
    let mut detail = format!("{call} returned 0x{:08X}", status as u32);
    if cause == Cause::Other || cause == Cause::Unavailable {
        detail.push_str(" (under Wine, SSPI has no usable Negotiate: run the probe on Windows)");
    }
    Failure::new(cause, detail)
}

struct SspiContext {
    cred: SecHandle,
    ctx: Option<SecHandle>,
    target: Vec<u16>,
    identity: Option<String>,
}

impl Drop for SspiContext {
    fn drop(&mut self) {
        // SAFETY: handles this context obtained, released once.
        unsafe {
            if let Some(ctx) = &self.ctx {
                DeleteSecurityContext(ctx);
            }
            FreeCredentialsHandle(&self.cred);
        }
    }
}

/// A context to `HTTP/host` with the logon's own credentials.
pub fn context(package: Package, host: &str) -> Result<Box<dyn Context>, Failure> {
    let name = wide(package.scheme());
    let mut cred = SecHandle {
        dwLower: 0,
        dwUpper: 0,
    };
    let mut expiry = 0i64;
    // SAFETY: the package name is NUL-terminated; no explicit credentials (the logon's own);
    // the handle is freed on drop.
    let status = unsafe {
        AcquireCredentialsHandleW(
            ptr::null(),
            name.as_ptr(),
            SECPKG_CRED_OUTBOUND,
            ptr::null(),
            ptr::null(),
            None,
            ptr::null(),
            &mut cred,
            &mut expiry,
        )
    };
    if status != SEC_E_OK {
        return Err(failure("AcquireCredentialsHandle", status));
    }
    let mut context = SspiContext {
        cred,
        ctx: None,
        target: wide(&logon::spn(host)),
        identity: None,
    };
    context.identity = identity(&context.cred);
    Ok(Box::new(context))
}

/// `DOMAIN\account` of a credential handle.
fn identity(cred: &SecHandle) -> Option<String> {
    let mut names = SecPkgCredentials_NamesW {
        sUserName: ptr::null_mut(),
    };
    // SAFETY: the attribute's buffer is the struct; its string is freed below.
    let status = unsafe {
        QueryCredentialsAttributesW(
            cred,
            SECPKG_CRED_ATTR_NAMES,
            (&mut names as *mut SecPkgCredentials_NamesW).cast(),
        )
    };
    if status != SEC_E_OK || names.sUserName.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string from SSPI, read up to its NUL, then freed once.
    let text = unsafe {
        let mut len = 0;
        while *names.sUserName.add(len) != 0 && len < 1024 {
            len += 1;
        }
        let text = String::from_utf16_lossy(std::slice::from_raw_parts(names.sUserName, len));
        FreeContextBuffer(names.sUserName.cast());
        text
    };
    Some(text)
}

impl Context for SspiContext {
    fn step(&mut self, input: Option<&[u8]>) -> Result<Step, Failure> {
        let mut input_buffer = SecBuffer {
            cbBuffer: input.map_or(0, |t| t.len() as u32),
            BufferType: SECBUFFER_TOKEN,
            pvBuffer: input.map_or(ptr::null_mut(), |t| t.as_ptr() as *mut c_void),
        };
        let input_desc = SecBufferDesc {
            ulVersion: SECBUFFER_VERSION,
            cBuffers: 1,
            pBuffers: &mut input_buffer,
        };
        let mut output_buffer = SecBuffer {
            cbBuffer: 0,
            BufferType: SECBUFFER_TOKEN,
            pvBuffer: ptr::null_mut(),
        };
        let mut output_desc = SecBufferDesc {
            ulVersion: SECBUFFER_VERSION,
            cBuffers: 1,
            pBuffers: &mut output_buffer,
        };
        let mut new_ctx = SecHandle {
            dwLower: 0,
            dwUpper: 0,
        };
        let (mut attributes, mut expiry) = (0u32, 0i64);
        // SAFETY: every pointer is valid for the call; SSPI allocates the output token
        // (ISC_REQ_ALLOCATE_MEMORY), freed below.
        let status = unsafe {
            InitializeSecurityContextW(
                &self.cred,
                self.ctx
                    .as_ref()
                    .map_or(ptr::null(), |c| c as *const SecHandle),
                self.target.as_ptr(),
                ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_CONNECTION,
                0,
                SECURITY_NATIVE_DREP,
                if input.is_some() {
                    &input_desc
                } else {
                    ptr::null()
                },
                0,
                &mut new_ctx,
                &mut output_desc,
                &mut attributes,
                &mut expiry,
            )
        };
        let token = if output_buffer.pvBuffer.is_null() {
            Vec::new()
        } else {
            // SAFETY: SSPI wrote `cbBuffer` bytes at `pvBuffer`; freed once.
            unsafe {
                let bytes = std::slice::from_raw_parts(
                    output_buffer.pvBuffer as *const u8,
                    output_buffer.cbBuffer as usize,
                )
                .to_vec();
                FreeContextBuffer(output_buffer.pvBuffer);
                bytes
            }
        };
        let ok = matches!(
            status,
            SEC_E_OK | SEC_I_CONTINUE_NEEDED | SEC_I_COMPLETE_NEEDED | SEC_I_COMPLETE_AND_CONTINUE
        );
        if !ok {
            return Err(failure("InitializeSecurityContext", status));
        }
        if self.ctx.is_none() {
            self.ctx = Some(new_ctx);
        }
        if token.len() > MAX_TOKEN {
            return Err(Failure::new(
                Cause::Other,
                format!("the token is {} bytes, over the limit", token.len()),
            ));
        }
        Ok(if token.is_empty() {
            Step::Done
        } else {
            Step::Send(token)
        })
    }

    fn identity(&self) -> Option<String> {
        self.identity.clone()
    }
}
