//! The system's GSSAPI (MIT Kerberos' `libgssapi_krb5.so.2`, or Heimdal's `libgssapi.so.3`),
//! opened at run time: the build needs neither its headers nor libclang, and a static binary
//! (which cannot load a library) says so instead of failing to link. Only the RFC 2744
//! functions of a client are declared; their C ABI has not changed since 2000.
//!
//! The credentials are the logon's: the default credential cache (`KRB5CCNAME`, filled by
//! `kinit`), or a client keytab (`KRB5_CLIENT_KTNAME`) from which MIT gets a ticket itself.

use super::logon::{Cause, Context, Failure, Package, Step, MAX_TOKEN};
use libloading::Library;
use std::ffi::c_void;
use std::ptr;

type Minor = u32;
type Major = u32;

#[repr(C)]
struct Oid {
    length: u32,
    elements: *const c_void,
}

#[repr(C)]
struct Buffer {
    length: usize,
    value: *mut c_void,
}

impl Buffer {
    fn empty() -> Buffer {
        Buffer {
            length: 0,
            value: ptr::null_mut(),
        }
    }
}

type Name = *mut c_void;
type Cred = *mut c_void;
type Ctx = *mut c_void;

type ImportName = unsafe extern "C" fn(*mut Minor, *const Buffer, *const Oid, *mut Name) -> Major;
type ReleaseName = unsafe extern "C" fn(*mut Minor, *mut Name) -> Major;
type DisplayName = unsafe extern "C" fn(*mut Minor, Name, *mut Buffer, *mut *const Oid) -> Major;
type AcquireCred = unsafe extern "C" fn(
    *mut Minor,
    Name,
    u32,
    *const c_void,
    i32,
    *mut Cred,
    *mut c_void,
    *mut u32,
) -> Major;
type InquireCred =
    unsafe extern "C" fn(*mut Minor, Cred, *mut Name, *mut u32, *mut i32, *mut c_void) -> Major;
type ReleaseCred = unsafe extern "C" fn(*mut Minor, *mut Cred) -> Major;
type InitSecContext = unsafe extern "C" fn(
    *mut Minor,
    Cred,
    *mut Ctx,
    Name,
    *const Oid,
    u32,
    u32,
    *const c_void,
    *const Buffer,
    *mut *const Oid,
    *mut Buffer,
    *mut u32,
    *mut u32,
) -> Major;
type DeleteSecContext = unsafe extern "C" fn(*mut Minor, *mut Ctx, *mut Buffer) -> Major;
type ReleaseBuffer = unsafe extern "C" fn(*mut Minor, *mut Buffer) -> Major;
type DisplayStatus =
    unsafe extern "C" fn(*mut Minor, u32, i32, *const Oid, *mut u32, *mut Buffer) -> Major;

/// 1.2.840.113554.1.2.1.4, `GSS_C_NT_HOSTBASED_SERVICE`: `service@host`.
const HOSTBASED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x01, 0x04];
/// 1.3.6.1.5.5.2, SPNEGO: what HTTP Negotiate carries.
const SPNEGO: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// 1.3.6.1.4.1.311.2.2.10, NTLM (gss-ntlmssp).
const NTLM: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];

const GSS_C_INITIATE: i32 = 1;
const GSS_C_INDEFINITE: u32 = u32::MAX;
const GSS_C_GSS_CODE: i32 = 1;
const GSS_C_MECH_CODE: i32 = 2;
const GSS_S_CONTINUE_NEEDED: u32 = 1;
/// The routine-error field of a major status.
const ROUTINE_ERROR: u32 = 0x00ff_0000;
const GSS_S_NO_CRED: u32 = 7 << 16;
const GSS_S_CREDENTIALS_EXPIRED: u32 = 11 << 16;
const GSS_S_BAD_MECH: u32 = 1 << 16;

/// MIT krb5 error codes (`krb5_err.et`, base -1765328384), as the minor status carries them.
mod krb5 {
    const BASE: i32 = -1_765_328_384;
    pub const C_PRINCIPAL_UNKNOWN: i32 = BASE + 6;
    pub const S_PRINCIPAL_UNKNOWN: i32 = BASE + 7;
    pub const TKT_EXPIRED: i32 = BASE + 32;
    pub const SKEW: i32 = BASE + 37;
    pub const CC_NOTFOUND: i32 = BASE + 141;
    pub const REALM_UNKNOWN: i32 = BASE + 154;
    pub const KDC_UNREACH: i32 = BASE + 156;
    pub const FCC_NOFILE: i32 = BASE + 195;
    pub const REALM_CANT_RESOLVE: i32 = BASE + 220;
}

/// The library names tried, MIT's first.
const LIBRARIES: &[&str] = &[
    "libgssapi_krb5.so.2",
    "libgssapi.so.3",
    "libgssapi_krb5.dylib",
];

struct Api {
    _lib: Library,
    import_name: ImportName,
    release_name: ReleaseName,
    display_name: DisplayName,
    acquire_cred: AcquireCred,
    inquire_cred: InquireCred,
    release_cred: ReleaseCred,
    init_sec_context: InitSecContext,
    delete_sec_context: DeleteSecContext,
    release_buffer: ReleaseBuffer,
    display_status: DisplayStatus,
}

impl Api {
    fn load() -> Result<Api, Failure> {
        let mut errors = Vec::new();
        for name in LIBRARIES {
            // SAFETY: loading a system GSSAPI library runs its initialisers, which is what any
            // Kerberos client does.
            match unsafe { Library::new(name) } {
                Ok(lib) => return Api::from(lib),
                Err(e) => errors.push(e.to_string()),
            }
        }
        Err(Failure::new(
            Cause::Unavailable,
            format!(
                "no GSSAPI library could be loaded (install MIT Kerberos' libgssapi-krb5-2, and use the glibc build of the probe: a static binary cannot load it): {}",
                errors.first().cloned().unwrap_or_default()
            ),
        ))
    }

    fn from(lib: Library) -> Result<Api, Failure> {
        fn get<T: Copy>(lib: &Library, name: &str) -> Result<T, Failure> {
            // SAFETY: each symbol is an RFC 2744 function of the type declared for it above.
            unsafe { lib.get::<T>(name.as_bytes()) }
                .map(|s| *s)
                .map_err(|e| Failure::new(Cause::Unavailable, format!("GSSAPI library: {e}")))
        }
        Ok(Api {
            import_name: get(&lib, "gss_import_name")?,
            release_name: get(&lib, "gss_release_name")?,
            display_name: get(&lib, "gss_display_name")?,
            acquire_cred: get(&lib, "gss_acquire_cred")?,
            inquire_cred: get(&lib, "gss_inquire_cred")?,
            release_cred: get(&lib, "gss_release_cred")?,
            init_sec_context: get(&lib, "gss_init_sec_context")?,
            delete_sec_context: get(&lib, "gss_delete_sec_context")?,
            release_buffer: get(&lib, "gss_release_buffer")?,
            display_status: get(&lib, "gss_display_status")?,
            _lib: lib,
        })
    }

    /// Copies and releases a buffer the library allocated.
    fn take(&self, buffer: &mut Buffer) -> Vec<u8> {
        let bytes = if buffer.value.is_null() || buffer.length == 0 {
            Vec::new()
        } else {
            // SAFETY: the library filled `buffer` with `length` bytes at `value`.
            unsafe { std::slice::from_raw_parts(buffer.value as *const u8, buffer.length) }.to_vec()
        };
        let mut minor = 0;
        // SAFETY: a buffer from the library, released once.
        unsafe { (self.release_buffer)(&mut minor, buffer) };
        bytes
    }

    /// Every message of a status, as `gss_display_status` words it.
    fn status_text(&self, code: u32, kind: i32) -> Vec<String> {
        let mut texts = Vec::new();
        let mut more = 0u32;
        for _ in 0..8 {
            let (mut minor, mut buffer) = (0, Buffer::empty());
            // SAFETY: out-parameters are valid; the buffer is released by `take`.
            let major = unsafe {
                (self.display_status)(&mut minor, code, kind, ptr::null(), &mut more, &mut buffer)
            };
            if major & ROUTINE_ERROR != 0 {
                break;
            }
            let text = String::from_utf8_lossy(&self.take(&mut buffer)).into_owned();
            if !text.is_empty() {
                texts.push(text);
            }
            if more == 0 {
                break;
            }
        }
        texts
    }

    /// A failure from a major and minor status, classified by the Kerberos error it carries.
    fn failure(&self, call: &str, major: u32, minor: u32) -> Failure {
        let mut words = self.status_text(major, GSS_C_GSS_CODE);
        words.extend(self.status_text(minor, GSS_C_MECH_CODE));
        let detail = format!("{call}: {}", words.join("; "));
        let routine = major & ROUTINE_ERROR;
        let from_words = cause_from_words(&detail);
        // The minor status is a krb5 error code, as a signed number.
        let cause = match minor as i32 {
            krb5::S_PRINCIPAL_UNKNOWN => Cause::NoSpn,
            krb5::SKEW => Cause::ClockSkew,
            krb5::KDC_UNREACH | krb5::REALM_CANT_RESOLVE | krb5::REALM_UNKNOWN => {
                Cause::KdcUnreachable
            }
            krb5::FCC_NOFILE
            | krb5::CC_NOTFOUND
            | krb5::TKT_EXPIRED
            | krb5::C_PRINCIPAL_UNKNOWN => Cause::NoCredentials,
            // MIT's mechanism glue (SPNEGO) renumbers the minor codes of the mechanism below
            // it: its words are what is left to read.
            _ if from_words.is_some() => from_words.unwrap_or(Cause::Other),
            _ if routine == GSS_S_NO_CRED || routine == GSS_S_CREDENTIALS_EXPIRED => {
                Cause::NoCredentials
            }
            _ if routine == GSS_S_BAD_MECH => Cause::Unavailable,
            _ => Cause::Other,
        };
        Failure::new(cause, detail)
    }
}

/// The cause in MIT's and Heimdal's messages for the krb5 errors above.
fn cause_from_words(detail: &str) -> Option<Cause> {
    let has = |w: &str| detail.contains(w);
    Some(if has("Clock skew too great") {
        Cause::ClockSkew
    } else if has("Server") && has("not found in Kerberos database") {
        Cause::NoSpn
    } else if has("Cannot contact any KDC")
        || has("Cannot find KDC")
        || has("Cannot resolve network address for KDC")
    {
        Cause::KdcUnreachable
    } else if has("No Kerberos credentials available")
        || has("No credentials cache found")
        || has("Ticket expired")
        || has("No credentials were supplied")
    {
        Cause::NoCredentials
    } else {
        return None;
    })
}

struct GssContext {
    api: Api,
    cred: Cred,
    target: Name,
    ctx: Ctx,
    mech: &'static [u8],
    identity: Option<String>,
}

// SAFETY: the handles are used by one thread at a time (the context moves between the tokio
// task and a blocking thread, never shared); MIT's library is thread-safe for that.
unsafe impl Send for GssContext {}

impl Drop for GssContext {
    fn drop(&mut self) {
        let mut minor = 0;
        // SAFETY: handles created by this library, released once; null ones are skipped.
        unsafe {
            if !self.ctx.is_null() {
                (self.api.delete_sec_context)(&mut minor, &mut self.ctx, ptr::null_mut());
            }
            if !self.cred.is_null() {
                (self.api.release_cred)(&mut minor, &mut self.cred);
            }
            if !self.target.is_null() {
                (self.api.release_name)(&mut minor, &mut self.target);
            }
        }
    }
}

/// A context to `HTTP@host` with the logon's default credentials.
pub fn context(package: Package, host: &str) -> Result<Box<dyn Context>, Failure> {
    let api = Api::load()?;
    let mut context = GssContext {
        api,
        cred: ptr::null_mut(),
        target: ptr::null_mut(),
        ctx: ptr::null_mut(),
        mech: match package {
            Package::Negotiate => SPNEGO,
            Package::Ntlm => NTLM,
        },
        identity: None,
    };
    let api = &context.api;
    let mut minor = 0;
    // The credentials first: "no ticket" is then said before anything goes to a KDC.
    // SAFETY: out-parameters are valid; the handle is released on drop.
    let major = unsafe {
        (api.acquire_cred)(
            &mut minor,
            ptr::null_mut(),
            GSS_C_INDEFINITE,
            ptr::null(),
            GSS_C_INITIATE,
            &mut context.cred,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if major & ROUTINE_ERROR != 0 {
        let mut failure = api.failure("acquiring the logon's credentials", major, minor);
        if failure.cause == Cause::Other {
            failure.cause = Cause::NoCredentials;
        }
        return Err(failure);
    }
    context.identity = identity(api, context.cred);
    let service = format!("HTTP@{}", host.trim_end_matches('.'));
    let name = Buffer {
        length: service.len(),
        value: service.as_ptr() as *mut c_void,
    };
    let hostbased = Oid {
        length: HOSTBASED.len() as u32,
        elements: HOSTBASED.as_ptr().cast(),
    };
    // SAFETY: the library copies the name; the handle is released on drop.
    let major = unsafe { (api.import_name)(&mut minor, &name, &hostbased, &mut context.target) };
    if major & ROUTINE_ERROR != 0 {
        return Err(api.failure("the proxy's service name", major, minor));
    }
    Ok(Box::new(context))
}

/// The principal of a credential handle.
fn identity(api: &Api, cred: Cred) -> Option<String> {
    let (mut minor, mut name): (Minor, Name) = (0, ptr::null_mut());
    // SAFETY: out-parameters are valid or null (not wanted).
    let major = unsafe {
        (api.inquire_cred)(
            &mut minor,
            cred,
            &mut name,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if major & ROUTINE_ERROR != 0 || name.is_null() {
        return None;
    }
    let mut buffer = Buffer::empty();
    // SAFETY: `name` came from the library; both are released here.
    let major = unsafe { (api.display_name)(&mut minor, name, &mut buffer, ptr::null_mut()) };
    let text = (major & ROUTINE_ERROR == 0)
        .then(|| String::from_utf8_lossy(&api.take(&mut buffer)).into_owned());
    // SAFETY: released once.
    unsafe { (api.release_name)(&mut minor, &mut name) };
    text
}

impl Context for GssContext {
    fn step(&mut self, input: Option<&[u8]>) -> Result<Step, Failure> {
        let input_buffer = input.map(|t| Buffer {
            length: t.len(),
            value: t.as_ptr() as *mut c_void,
        });
        let mech = Oid {
            length: self.mech.len() as u32,
            elements: self.mech.as_ptr().cast(),
        };
        let (mut minor, mut output) = (0, Buffer::empty());
        // SAFETY: every pointer is valid for the call; the input token is only read; the
        // output buffer is released by `take`.
        let major = unsafe {
            (self.api.init_sec_context)(
                &mut minor,
                self.cred,
                &mut self.ctx,
                self.target,
                &mech,
                0,
                0,
                ptr::null(),
                input_buffer
                    .as_ref()
                    .map_or(ptr::null(), |b| b as *const Buffer),
                ptr::null_mut(),
                &mut output,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        let token = self.api.take(&mut output);
        if major & ROUTINE_ERROR != 0 {
            return Err(self
                .api
                .failure("making the token (gss_init_sec_context)", major, minor));
        }
        if token.len() > MAX_TOKEN {
            return Err(Failure::new(
                Cause::Other,
                format!("the token is {} bytes, over the limit", token.len()),
            ));
        }
        match (token.is_empty(), major & GSS_S_CONTINUE_NEEDED != 0) {
            (false, _) => Ok(Step::Send(token)),
            (true, true) => Err(Failure::new(
                Cause::Other,
                "the security library wants the proxy's answer but gave nothing to send",
            )),
            (true, false) => Ok(Step::Done),
        }
    }

    fn identity(&self) -> Option<String> {
        self.identity.clone()
    }
}
