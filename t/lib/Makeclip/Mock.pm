package Makeclip::Mock;

# A mock provider: a small HTTP/1.1 server on 127.0.0.1 in a child
# process, serving many connections at once with select(), speaking one
# provider's documented API (a subclass's routes).
#
# Tests steer and inspect it through its own control endpoints, which no
# provider has:
#
#   POST /__mock/faults    {"create": ["500", "timeout"], "status": [...]}
#                          queues faults; each request of that operation
#                          takes the next one: an HTTP status ("500",
#                          "429", "401"), "timeout" (never answer),
#                          "malformed" (200 with a body that is not JSON),
#                          "close" (close the connection), "delay:MS"
#                          (the real answer, MS milliseconds late)
#   GET  /__mock/requests  every request seen, oldest first
#   POST /__mock/reset     forget requests, tasks and faults
#   POST /__mock/config    {"key": value}: a subclass's settings
#
# A subclass implements routes() -> [ [METHOD, qr{path}, \&handler, op] ]
# where a handler gets ($self, $req, @captures) and returns
# [status, {headers}, body]; op names the operation for faults.

use strict;
use warnings;

use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);

my $JSON = JSON::PP->new->canonical->allow_nonref;

sub new {
    my ($class, %opts) = @_;
    my $self = bless {
        port     => $opts{port},
        key      => $opts{key} // 'test-provider-key',
        steps    => $opts{steps} // 2,      # polls before the end
        outcome  => $opts{outcome} // 'succeed',
        tasks    => {},
        requests => [],
        faults   => {},
        config   => { %{ $opts{config} || {} } },
        seq      => 0,
        %opts,
    }, $class;
    return $self;
}

sub port { $_[0]{port} }
sub url  { "http://127.0.0.1:$_[0]{port}" }

sub start {
    my ($self) = @_;

    my $listen = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => $self->{port},
        Proto => 'tcp', Listen => 128, ReuseAddr => 1,
    ) or die "mock: cannot listen on $self->{port}: $!";

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid) {
        close $listen;
        $self->{pid} = $pid;
        # wait until it accepts
        for (1 .. 200) {
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => $self->{port});
            if ($s) { close $s; last }
            sleep 0.02;
        }
        return $self;
    }

    $SIG{TERM} = sub { exit 0 };
    $self->serve($listen);
    exit 0;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

sub DESTROY { local $?; $_[0]->stop if $_[0]{pid} && $$ != $_[0]{pid} }

# --- the server loop (child) ---

sub serve {
    my ($self, $listen) = @_;

    my $sel = IO::Select->new($listen);
    my %buf;

    for (;;) {
        # answers held back by "delay:MS", sent when due
        my @late;
        for my $p (@{ $self->{late} || [] }) {
            if ($p->[1] <= time) {
                _write($p->[0], $p->[2]);
                $sel->add($p->[0]);
            } else {
                push @late, $p;
            }
        }
        $self->{late} = \@late;

        for my $fh ($sel->can_read(@late ? 0.01 : 1)) {
            if ($fh == $listen) {
                my $c = $listen->accept or next;
                $c->blocking(0);
                $sel->add($c);
                $buf{fileno $c} = '';
                next;
            }

            my $n = sysread($fh, my $chunk, 65536);
            if (!$n) {
                $sel->remove($fh);
                delete $buf{fileno $fh};
                close $fh;
                next;
            }

            $buf{fileno $fh} .= $chunk;

            while (my $req = _parse(\$buf{fileno $fh})) {
                my $res = $self->handle($req);

                if (!defined $res) {
                    # "timeout": this connection never gets an answer
                    $sel->remove($fh);
                    push @{$self->{stalled}}, $fh;
                    last;
                }

                if ($res eq 'close') {
                    $sel->remove($fh);
                    close $fh;
                    last;
                }

                if ($res->[0] eq 'delay') {
                    $sel->remove($fh);
                    push @{ $self->{late} }, [$fh, time + $res->[1] / 1000,
                                              $res->[2]];
                    last;
                }

                _write($fh, $res);

                if (($req->{headers}{connection} || '') =~ /close/i) {
                    $sel->remove($fh);
                    close $fh;
                    last;
                }
            }
        }
    }
}

sub _parse {
    my ($buf) = @_;

    my $end = index($$buf, "\r\n\r\n");
    return undef if $end < 0;

    my $head = substr($$buf, 0, $end);
    my ($line, @lines) = split /\r\n/, $head;
    my ($method, $target) = split / /, $line;

    my %h;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $h{lc $k} = defined $h{lc $k} ? "$h{lc $k}, $v" : $v;
    }

    my $len = $h{'content-length'} || 0;
    return undef if length($$buf) < $end + 4 + $len;

    my $body = substr($$buf, $end + 4, $len);
    substr($$buf, 0, $end + 4 + $len) = '';

    my ($path, $query) = split /\?/, $target, 2;
    my %q;
    for (split /&/, $query // '') {
        my ($k, $v) = split /=/, $_, 2;
        $v //= '';
        $v =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        $q{$k} = $v;
    }

    return {
        method => $method, path => $path, query => \%q, target => $target,
        headers => \%h, body => $body,
        json => ($body ne '' ? eval { $JSON->decode($body) } : undef),
    };
}

sub _write {
    my ($fh, $res) = @_;
    my ($status, $headers, $body) = @$res;
    $body //= '';
    $body = $JSON->encode($body) if ref $body;

    my $out = "HTTP/1.1 $status X\r\n";
    my %h = (%{ $headers || {} });
    $h{'Content-Type'} //= 'application/json';
    $h{'Content-Length'} = length $body;
    $out .= "$_: $h{$_}\r\n" for sort keys %h;
    $out .= "\r\n$body";

    $fh->blocking(1);
    print $fh $out;
    $fh->blocking(0);
}

sub handle {
    my ($self, $req) = @_;

    if ($req->{path} =~ m{^/__mock/(\w+)}) {
        return $self->control($1, $req);
    }

    push @{$self->{requests}}, {
        map { $_ => $req->{$_} } qw(method path query headers body json)
    };

    for my $route (@{ $self->routes }) {
        my ($m, $re, $code, $op) = @$route;
        next unless $req->{method} eq $m && $req->{path} =~ $re;
        my @cap = map { substr($req->{path}, $-[$_], $+[$_] - $-[$_]) }
                  1 .. $#-;

        if ($op) {
            my $f = $self->take_fault($op);
            if (defined $f && $f =~ /^delay:(\d+)$/) {
                return ['delay', $1, $code->($self, $req, @cap)];
            }
            if (defined $f) {
                return undef if $f eq 'timeout';
                return 'close' if $f eq 'close';
                return [200, {}, '{"this is": not json'] if $f eq 'malformed';
                return [$f, {}, $self->fault_body($f, $op)];
            }
        }

        return $code->($self, $req, @cap);
    }

    return [404, {}, { error => "no route for $req->{method} $req->{path}" }];
}

sub take_fault {
    my ($self, $op) = @_;
    my $q = $self->{faults}{$op} or return undef;
    return shift @$q;
}

# the body a provider sends with an error status; subclasses may shape it
sub fault_body {
    my ($self, $status, $op) = @_;
    return { error => { message => "mock fault $status", code => $status } };
}

sub control {
    my ($self, $what, $req) = @_;

    if ($what eq 'faults') {
        my $f = $req->{json} || {};
        push @{ $self->{faults}{$_} }, @{ $f->{$_} } for keys %$f;
        return [200, {}, { ok => JSON::PP::true }];
    }

    if ($what eq 'requests') {
        return [200, {}, $self->{requests}];
    }

    if ($what eq 'tasks') {
        return [200, {}, $self->{tasks}];
    }

    if ($what eq 'reset') {
        $self->{requests} = [];
        $self->{tasks} = {};
        $self->{faults} = {};
        return [200, {}, { ok => JSON::PP::true }];
    }

    if ($what eq 'config') {
        my $c = $req->{json} || {};
        $self->{config}{$_} = $c->{$_} for keys %$c;
        $self->{$_} = $c->{$_} for grep { /^(steps|outcome|key)$/ } keys %$c;
        return [200, {}, { ok => JSON::PP::true }];
    }

    return [404, {}, { error => 'unknown control' }];
}

# --- helpers for subclasses ---

sub next_id {
    my ($self, $prefix) = @_;
    return sprintf '%s%06d', $prefix // 'task-', ++$self->{seq};
}

sub bearer_ok {
    my ($self, $req) = @_;
    return ($req->{headers}{authorization} || '') eq "Bearer $self->{key}";
}

# how far a task has come: each status poll moves it one step; the last
# step ends it as the mock's outcome ("succeed" or "fail"), or as the
# task's own outcome when the create asked for one
sub advance {
    my ($self, $task) = @_;
    $task->{polls}++;
    return 'queued' if $task->{polls} <= 0;
    return 'running' if $task->{polls} < $self->{steps};
    return $task->{outcome} // $self->{outcome};
}

# --- the test side: talking to the mock's control endpoints ---

sub _ctl {
    my ($self, $method, $what, $body) = @_;
    require HTTP::Tiny;
    my $res = HTTP::Tiny->new(timeout => 5)->request(
        $method, $self->url . "/__mock/$what",
        { defined $body ? (content => $JSON->encode($body),
                           headers => { 'Content-Type' => 'application/json' })
                        : () });
    die "mock control $what: $res->{status}" unless $res->{success};
    return $JSON->decode($res->{content});
}

sub faults   { my ($s, %f) = @_; $s->_ctl('POST', 'faults', \%f) }
sub requests { $_[0]->_ctl('GET', 'requests') }
sub tasks    { $_[0]->_ctl('GET', 'tasks') }
sub reset    { $_[0]->_ctl('POST', 'reset', {}) }
sub configure { my ($s, %c) = @_; $s->_ctl('POST', 'config', \%c) }

# the requests of one method and path pattern
sub requests_to {
    my ($self, $method, $re) = @_;
    return grep { $_->{method} eq $method && $_->{path} =~ $re }
        @{ $self->requests };
}

1;
