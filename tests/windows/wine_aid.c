/* Test aid for the Windows end-to-end tests under Wine; never shipped. Wine's certutil and
 * netsh are stubs, so this does what an administrator does with them on a server, through the
 * same Windows APIs:
 *   wine_aid add-root CERT.der           certutil -addstore Root CERT.der
 *   wine_aid set-winhttp PROXY [BYPASS]  netsh winhttp set proxy PROXY BYPASS
 *   wine_aid set-winhttp direct          netsh winhttp reset proxy
 *   wine_aid run-action CMD ARGS DIR     what Task Scheduler does to start a task's Exec action
 *                                        (Wine's scheduler cannot: see tests/tests/windows_task.rs)
 * Exit 0 on success, 1 on failure (with the Windows error code on stderr); run-action exits
 * with the started program's exit code. */
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

/* Starts an Exec action as Task Scheduler does: CreateProcess on `"Command" Arguments` in the
 * working directory, then waits for it. The program inherits this process's standard handles
 * (so the test reads its summary) and its environment; no new process group, so a Ctrl-C
 * (Wine turns SIGINT into CTRL_C_EVENT) reaches it. */
static int run_action(const char *command, const char *arguments, const char *dir)
{
    size_t len = strlen(command) + strlen(arguments) + 4;
    char *line = malloc(len);
    STARTUPINFOA si = {0};
    PROCESS_INFORMATION pi;
    DWORD code;
    snprintf(line, len, "\"%s\" %s", command, arguments);
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    if (!CreateProcessA(command, line, NULL, NULL, TRUE, 0, NULL, dir, &si, &pi))
        return fail("CreateProcess");
    fprintf(stderr, "wine_aid: started process %lu\n", pi.dwProcessId);
    WaitForSingleObject(pi.hProcess, INFINITE);
    if (!GetExitCodeProcess(pi.hProcess, &code))
        return fail("GetExitCodeProcess");
    return (int)code;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "add-root"))
        return add_root(argv[2]);
    if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "set-winhttp"))
        return set_winhttp(argc - 2, argv + 2);
    if (argc == 5 && !strcmp(argv[1], "run-action"))
        return run_action(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: wine_aid add-root CERT.der | set-winhttp PROXY [BYPASS] | set-winhttp direct"
                    " | run-action COMMAND ARGUMENTS DIR\n");
    return 2;
}
