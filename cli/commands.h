#pragma once
// One function per `weft` subcommand, each adding itself (options, help, action) to the app.
namespace CLI {
class App;
}

namespace weft::cli {

struct Context;

void add_launch_command(CLI::App& app, Context& ctx);
void add_status_command(CLI::App& app, Context& ctx);
void add_target_commands(CLI::App& app, Context& ctx);  // connect, forget
void add_stop_commands(CLI::App& app, Context& ctx);    // stop, reset
void add_attach_commands(CLI::App& app, Context& ctx);  // attach, detach, ps
void add_expose_commands(CLI::App& app, Context& ctx);  // expose, hide
void add_version_command(CLI::App& app);
void add_ipam_commands(CLI::App& app, Context& ctx);   // rmpeer
void add_label_commands(CLI::App& app, Context& ctx);  // label, namespace label|list
void add_policy_commands(CLI::App& app, Context& ctx);  // policy apply|list|get|delete
void add_dns_commands(CLI::App& app, Context& ctx);    // dns-add, dns-remove, dns-lookup
void add_setup_cni_command(CLI::App& app, Context& ctx);

}  // namespace weft::cli
