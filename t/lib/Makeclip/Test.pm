package Makeclip::Test;

# The end-to-end test harness, in the spirit of nginx-tests: each test
# writes its own nginx.conf into a temporary prefix, takes free ports,
# starts nginx with the built module, talks to it over HTTP, stops it,
# and fails if the error log holds an [alert], [crit] or [emerg] line or
# a sanitizer report.

use strict;
use warnings;

use Exporter qw(import);
use File::Temp qw(tempdir);
use File::Spec;
use IO::Socket::INET;
use HTTP::Tiny;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Test::More;
use Cwd qw(abs_path);

our @EXPORT_OK = qw(json_decode json_encode);

my $ROOT = abs_path(File::Spec->catdir((File::Spec->splitpath(
    abs_path(__FILE__)))[1], '..', '..', '..'));

my $JSON = JSON::PP->new->canonical->allow_nonref;

sub json_decode { my $s = shift; my $v = eval { $JSON->decode($s) }; $v }
sub json_encode { $JSON->encode(shift) }

sub root { $ROOT }

sub new {
    my ($class, %opts) = @_;

    my $build = $ENV{MAKECLIP_BUILD} || "$ROOT/build";
    my $self = bless {
        dir     => tempdir("makeclip-test-$$-" . ('X' x 6), TMPDIR => 1,
                           CLEANUP => !$ENV{TEST_KEEP}),
        build   => $build,
        module  => $ENV{MAKECLIP_MODULE} || "$build/ngx_http_makeclip_module.so",
        cli     => $ENV{MAKECLIP_CLI} || "$build/makeclip",
        nginx   => $ENV{NGINX_BIN} || _nginx_bin($build),
        ports   => {},
        mocks   => [],
        allowed => [],
        workers => $opts{workers} || 1,
    }, $class;

    plan(skip_all => "the module is not built: run make") unless -f $self->{module};
    plan(skip_all => "no nginx binary at $self->{nginx}") unless -x $self->{nginx};

    mkdir "$self->{dir}/logs";
    mkdir "$self->{dir}/tmp";
    chmod 0755, $self->{dir};

    return $self;
}

sub _nginx_bin {
    my ($build) = @_;
    my $src = $ENV{NGINX_SRC} || '/usr/share/nginx/src';
    return "$build/nginx/objs/nginx" unless -f "$src/conf_flags";
    for my $p (split /:/, ($ENV{PATH} || '') . ':/usr/sbin') {
        return "$p/nginx" if -x "$p/nginx";
    }
    return '/usr/sbin/nginx';
}

sub dir { $_[0]->{dir} }
sub store { "$_[0]->{dir}/store" }

# a free TCP port on 127.0.0.1, the same one for the same name
sub port {
    my ($self, $name) = @_;
    $name //= 'http';
    return $self->{ports}{$name} if $self->{ports}{$name};

    for (1 .. 50) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                      Proto => 'tcp', ReuseAddr => 1) or next;
        my $port = $s->sockport;
        close $s;
        next if grep { $_ == $port } values %{$self->{ports}};
        return $self->{ports}{$name} = $port;
    }

    die "no free port";
}

# The http{} block's contents; %%PORT%% and %%PORT_name%% become ports,
# %%ROOT%% the repository, %%DIR%% the test's prefix.  The server listens
# on %%PORT%% unless the text has its own server{} (with_server => 0).
sub write_config {
    my ($self, $http, %opts) = @_;

    my $dir = $self->{dir};
    my $port = $self->port;
    my $workers = $opts{workers} || $self->{workers};

    # as root, workers would run as nobody, who may not reach a checkout
    # under a private home directory
    my $user = $> == 0 ? "user root;\n" : '';

    # nginx passes only the variables env names to a new binary (USR2)
    $user .= "env LD_PRELOAD;\nenv ASAN_OPTIONS;\nenv UBSAN_OPTIONS;\n"
        if $ENV{MAKECLIP_PRELOAD};

    my $conf = <<"END";
load_module $self->{module};
${user}worker_processes $workers;
daemon on;
master_process on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log ${\ ($opts{log_level} || 'info')};
events { worker_connections 1024; }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
$http
}
END

    $conf =~ s/%%PORT_(\w+)%%/$self->port($1)/ge;
    $conf =~ s/%%PORT%%/$port/g;
    $conf =~ s/%%ROOT%%/$ROOT/g;
    $conf =~ s/%%DIR%%/$dir/g;

    open my $fh, '>', "$dir/nginx.conf" or die $!;
    print $fh $conf;
    close $fh;

    return $self;
}

# the common server block: the API under /v1/ and the proxy snippet
sub api_server {
    my ($self, $extra) = @_;
    $extra //= '';
    return <<"END";
    server {
        listen 127.0.0.1:%%PORT%%;
        location /v1/ {
            makeclip_api;
            makeclip_poll_interval 0;
$extra
        }
        include %%ROOT%%/conf/makeclip_proxy.conf;
    }
END
}

# a module built with sanitizers (make asan) runs in Debian's nginx with
# the runtime preloaded; reports go to files check_log reads
sub _sanitizer_env {
    my ($self) = @_;
    return () unless $ENV{MAKECLIP_PRELOAD};
    my $dir = $self->{dir};
    return (
        LD_PRELOAD => $ENV{MAKECLIP_PRELOAD},
        ASAN_OPTIONS => "log_path=$dir/logs/asan:detect_leaks=0",
        UBSAN_OPTIONS => "log_path=$dir/logs/ubsan:print_stacktrace=1",
    );
}

sub test_config {
    my ($self) = @_;
    my %env = $self->_sanitizer_env;
    local @ENV{keys %env} = values %env;
    my $out = `$self->{nginx} -p $self->{dir}/ -c $self->{dir}/nginx.conf -t 2>&1`;
    return ($? == 0, $out);
}

sub run {
    my ($self) = @_;

    my $dir = $self->{dir};

    my %env = $self->_sanitizer_env;
    local @ENV{keys %env} = values %env;

    # MAKECLIP_VALGRIND=1 runs nginx under valgrind's memcheck; what it
    # finds goes to files check_log reads
    my $wrap = $ENV{MAKECLIP_VALGRIND}
        ? "valgrind -q --trace-children=no --log-file=$dir/logs/valgrind.%p "
          . "--suppressions=$ROOT/t/valgrind.supp "
        : '';

    my $out = `$wrap$self->{nginx} -p $dir/ -c $dir/nginx.conf 2>&1`;
    if ($?) {
        BAIL_OUT("nginx failed to start: $out");
    }

    $self->wait_port($self->port, $wrap ? 60 : 10)
        or BAIL_OUT("nginx did not listen");
    $self->{running} = 1;
    return $self;
}

sub wait_port {
    my ($self, $port, $timeout) = @_;
    my $end = time + ($timeout || 10);
    while (time < $end) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp');
        if ($s) { close $s; return 1 }
        sleep 0.05;
    }
    return 0;
}

sub pid {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/nginx.pid" or return;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

sub reload {
    my ($self) = @_;
    my $pid = $self->pid or return;
    kill 'HUP', $pid;
}

sub stop {
    my ($self) = @_;
    return unless $self->{running};

    my $pid = $self->pid;
    if ($pid) {
        kill 'QUIT', $pid;
        for (1 .. ($ENV{MAKECLIP_VALGRIND} ? 1200 : 200)) {
            last unless kill 0, $pid;
            sleep 0.05;
        }
        kill 'KILL', $pid if kill 0, $pid;
    }

    $self->{running} = 0;
    return $self;
}

# lines of the error log matching a pattern
sub errors {
    my ($self, $re) = @_;
    open my $fh, '<', "$self->{dir}/logs/error.log" or return ();
    return grep { $_ =~ $re } <$fh>;
}

sub error_log {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/logs/error.log" or return '';
    local $/;
    return <$fh>;
}

# log lines that may appear in this test without failing it
sub allow_log {
    my ($self, @re) = @_;
    push @{$self->{allowed}}, @re;
}

sub check_log {
    my ($self) = @_;
    my @bad = grep {
        my $l = $_;
        !grep { $l =~ $_ } @{$self->{allowed}}
    } $self->errors(qr/\[(alert|crit|emerg)\]|AddressSanitizer|LeakSanitizer|runtime error:/);
    ok(!@bad, 'no alert, crit or emerg in the error log')
        or diag(join '', @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

    my @reports = glob("$self->{dir}/logs/asan.* $self->{dir}/logs/ubsan.*");
    push @reports, grep { -s $_ } glob("$self->{dir}/logs/valgrind.*");
    ok(!@reports, 'no sanitizer reports')
        or diag(map { local $/; open my $fh, '<', $_; <$fh> } @reports[0 .. 0]);
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $@);
    eval { $self->stop };
    # in global destruction a mock may already be gone
    for my $m (@{ $self->{mocks} || [] }) {
        eval { $m->stop } if $m;
    }
}

# HTTP to the gateway: returns a response hash with status, headers,
# content and json (decoded when the body is JSON)
sub http {
    my ($self, $method, $path, %opts) = @_;

    my $http = HTTP::Tiny->new(timeout => $opts{timeout} || 30,
                               keep_alive => 0, max_redirect => 0);
    my %h = %{ $opts{headers} || {} };
    $h{Authorization} = "Bearer $opts{key}" if $opts{key};

    my $body = $opts{body};
    if (ref $body) {
        $body = json_encode($body);
        $h{'Content-Type'} //= 'application/json';
    }

    my $url = "http://127.0.0.1:" . ($opts{port} || $self->port) . $path;
    my $res = $http->request($method, $url, {
        headers => \%h,
        defined $body ? (content => $body) : (),
    });

    $res->{json} = json_decode($res->{content})
        if ($res->{headers}{'content-type'} || '') =~ /json/;

    return $res;
}

sub get    { my ($s, $p, %o) = @_; $s->http('GET', $p, %o) }
sub post   { my ($s, $p, %o) = @_; $s->http('POST', $p, %o) }
sub delete { my ($s, $p, %o) = @_; $s->http('DELETE', $p, %o) }

# polls a task until it is completed or failed; returns the last answer
sub wait_task {
    my ($self, $id, %opts) = @_;
    my $end = time + ($opts{timeout} || 20);
    my $r;
    while (time < $end) {
        $r = $self->get("/v1/videos/$id", key => $opts{key});
        last if $r->{json} && ($r->{json}{status} || '') =~ /^(completed|failed)$/;
        sleep($opts{interval} || 0.1);
    }
    return $r;
}

# the makeclip CLI on this test's store
sub cli {
    my ($self, @args) = @_;
    my $cmd = join ' ', map { "'$_'" } $self->{cli}, '-s', $self->store, @args;
    my $out = `$cmd 2>&1`;
    return wantarray ? ($out, $? >> 8) : $out;
}

# an account with a key and credits; returns the key
sub account {
    my ($self, $id, %opts) = @_;
    my $plan = $opts{plan} || 'pro';
    my ($out, $rc) = $self->cli('account', 'create', $id, '--plan', $plan);
    die "account create: $out" if $rc;
    ($out, $rc) = $self->cli('key', 'add', $id);
    die "key add: $out" if $rc;
    my ($key) = $out =~ /^(mk_\w+)$/m;
    if ($opts{credits}) {
        ($out, $rc) = $self->cli('grant', $id, $opts{credits}, '--reason', 'test');
        die "grant: $out" if $rc;
    }
    return $key;
}

sub balance {
    my ($self, $id) = @_;
    my $out = $self->cli('balance', $id);
    my ($b, $r) = $out =~ /balance (-?\d+), reserved (-?\d+)/;
    return wantarray ? ($b, $r) : $b;
}

sub audit_clean {
    my ($self, $name) = @_;
    my ($out, $rc) = $self->cli('audit');
    ok($rc == 0 && $out =~ /clean/, $name || 'the ledger audit is clean')
        or diag($out);
}

sub mock {
    my ($self, $class, %opts) = @_;
    eval "require $class" or die $@;
    my $m = $class->new(port => $self->port($opts{name} || $class), %opts);
    $m->start;
    push @{$self->{mocks}}, $m;
    return $m;
}

1;
