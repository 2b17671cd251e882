/* Test aid for the Windows end-to-end tests under Wine; never shipped. Wine's certutil and
 * netsh are stubs, so this does what an administrator does with them on a server, through the
 * same Windows APIs:
 *   wine_aid add-root CERT.der           certutil -addstore Root CERT.der
 *   wine_aid set-winhttp PROXY [BYPASS]  netsh winhttp set proxy PROXY BYPASS
 *   wine_aid set-winhttp direct          netsh winhttp reset proxy
 * Exit 0 on success, 1 on failure (with the Windows error code on stderr). */
#include <windows.h>
#include <wincrypt.h>
#include <winhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what)
{
    fprintf(stderr, "wine_aid: %s failed (error %lu)\n", what, GetLastError());
    return 1;
}

static int add_root(const char *path)
{
    FILE *f = fopen(path, "rb");
    BYTE buf[16384];
    size_t len;
    HCERTSTORE store;
    if (!f)
        return fail("opening the certificate file");
    len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"Root");
    if (!store)
        return fail("CertOpenStore(LocalMachine Root)");
    if (!CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, buf, (DWORD)len,
                                          CERT_STORE_ADD_REPLACE_EXISTING, NULL))
        return fail("CertAddEncodedCertificateToStore");
    CertCloseStore(store, 0);
    return 0;
}

static WCHAR *wide(const char *s)
{
    int n = MultiByteToWideChar(CP_ACP, 0, s, -1, NULL, 0);
    WCHAR *w = malloc(n * sizeof(WCHAR));
    MultiByteToWideChar(CP_ACP, 0, s, -1, w, n);
    return w;
}

static int set_winhttp(int argc, char **argv)
{
    WINHTTP_PROXY_INFO info = {0};
    if (!strcmp(argv[0], "direct")) {
        info.dwAccessType = WINHTTP_ACCESS_TYPE_NO_PROXY;
    } else {
        info.dwAccessType = WINHTTP_ACCESS_TYPE_NAMED_PROXY;
        info.lpszProxy = wide(argv[0]);
        info.lpszProxyBypass = argc > 1 ? wide(argv[1]) : NULL;
    }
    if (!WinHttpSetDefaultProxyConfiguration(&info))
        return fail("WinHttpSetDefaultProxyConfiguration");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "add-root"))
        return add_root(argv[2]);
    if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "set-winhttp"))
        return set_winhttp(argc - 2, argv + 2);
    fprintf(stderr, "usage: wine_aid add-root CERT.der | set-winhttp PROXY [BYPASS] | set-winhttp direct\n");
    return 2;
}
