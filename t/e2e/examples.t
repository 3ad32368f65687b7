#!/usr/bin/perl

# The shipped configurations pass nginx -t: conf/makeclip.conf as make
# run uses it, and conf/production.conf.example with its hosts, keys and
# paths pointed at this test's (no DNS, no certificates needed).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Makeclip::Test;

my $t = Makeclip::Test->new;
my $dir = $t->dir;
my $root = Makeclip::Test::root();

sub slurp { open my $fh, '<', shift or die $!; local $/; <$fh> }
sub spew { open my $fh, '>', shift or die $!; print $fh shift; close $fh }

sub nginx_t {
    my ($conf) = @_;
    spew("$dir/example.conf", $conf);
    my $user = $> == 0 ? 'user root;' : '';
    my %env = $t->_sanitizer_env;
    local @ENV{keys %env} = values %env;
    my $out = `$t->{nginx} -p $dir/ -c $dir/example.conf -g 'pid $dir/ex.pid; $user' -t 2>&1`;
    return ($? == 0, $out);
}

# the sandbox default, as tools/run rewrites it
my $conf = slurp("$root/conf/makeclip.conf");
$conf =~ s{load_module\s+\S+;}{load_module $t->{module};};
$conf =~ s{\bvar/}{$dir/var/}g;
$conf =~ s{include\s+makeclip_proxy\.conf;}{include $root/conf/makeclip_proxy.conf;};
$conf =~ s{video=conf/}{video=$root/conf/};
$conf =~ s{^pid\s+\S+;\n}{}m;
mkdir "$dir/var"; mkdir "$dir/var/tmp";
my ($ok, $out) = nginx_t($conf);
ok($ok, 'conf/makeclip.conf passes nginx -t') or diag($out);

# the production example
$conf = slurp("$root/conf/production.conf.example");
$conf =~ s{load_module\s+\S+;}{load_module $t->{module};};
$conf =~ s{url=https://[^/\s;]+}{url=http://127.0.0.1:9}g;
$conf =~ s{server\s+[\w.-]+:443;}{server 127.0.0.1:9;}g;
$conf =~ s{(key|secret)_file=/etc/makeclip/([\w.]+)}{
    spew("$dir/$2", "example-secret-$2\n"); "$1_file=$dir/$2"}ge;
$conf =~ s{/var/lib/makeclip}{$dir/store}g;
$conf =~ s{/var/log/nginx/}{$dir/logs/}g;
$conf =~ s{listen\s+443 ssl;}{"listen 127.0.0.1:" . $t->port . ";"}e;
$conf =~ s{^\s*ssl_certificate(_key)?\s+.*\n}{}mg;
$conf =~ s{include\s+/etc/nginx/makeclip_proxy\.conf;}{include $root/conf/makeclip_proxy.conf;};
($ok, $out) = nginx_t($conf);
ok($ok, 'conf/production.conf.example passes nginx -t') or diag($out);
unlike($out, qr/\[warn\]/, 'without warnings') or diag($out);

done_testing;
